import { StackModelSchema, newSecrets, type StackModel, type StackModelInput } from '../../../src-main/services/stack/stack-model';

/** A valid model with fresh secrets; `over` replaces top-level keys (nested objects are replaced whole). */
export function testModel(over: Partial<StackModelInput> = {}): StackModel {
  const s = newSecrets();
  return StackModelSchema.parse({ domain: 'misskey.example.com', db: { password: s.dbPassword }, setupPassword: s.setupPassword, ...over });
}
