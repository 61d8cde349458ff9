import { describe, expect, it } from 'vitest';
import { ApiError } from '../../lab/images/misskey-double/src/api-error';
import { checkSchema, castMultipartFields, validateParams, type ObjectSchema } from '../../lab/images/misskey-double/src/param-schema';
import { updateMetaParams } from '../../lab/images/misskey-double/src/update-meta-params';

const usersShow: ObjectSchema = {
  type: 'object',
  properties: { host: { type: 'string', nullable: true } },
  allOf: [
    {
      anyOf: [
        { type: 'object', required: ['userId'], properties: { userId: { type: 'string' } } },
        { type: 'object', required: ['username'], properties: { username: { type: 'string' } } },
      ],
    },
  ],
};

describe('param validation reports like Misskey (ajv first error)', () => {
  it('a string where update-meta wants an array (misskey.md §10 row 15)', () => {
    expect(checkSchema(updateMetaParams, { blockedHosts: 'blocked.example' })).toEqual({
      param: '#/properties/blockedHosts/type',
      reason: 'must be array',
    });
  });

  it('null is fine for nullable lists, not for plain booleans', () => {
    expect(checkSchema(updateMetaParams, { blockedHosts: null })).toBeNull();
    expect(checkSchema(updateMetaParams, { cacheRemoteFiles: null })).toEqual({
      param: '#/properties/cacheRemoteFiles/type',
      reason: 'must be boolean',
    });
  });

  it('users/show with neither userId nor username (row 31)', () => {
    expect(checkSchema(usersShow, {})).toEqual({ param: '#/allOf/0/anyOf/0/required', reason: "must have required property 'userId'" });
    expect(checkSchema(usersShow, { username: 'alice' })).toBeNull();
  });

  it('enum, pattern and array items', () => {
    expect(checkSchema(updateMetaParams, { federation: 'some' })?.reason).toBe('must be equal to one of the allowed values');
    expect(checkSchema(updateMetaParams, { themeColor: 'red' })?.param).toBe('#/properties/themeColor/pattern');
    expect(checkSchema(updateMetaParams, { silencedHosts: ['ok', 3] })).toEqual({
      param: '#/properties/silencedHosts/items/type',
      reason: 'must be string',
    });
  });

  it('validateParams throws INVALID_PARAM with that info', () => {
    const err = (() => {
      try {
        validateParams(updateMetaParams, { name: 1 });
      } catch (e) {
        return e;
      }
    })();
    expect(err).toBeInstanceOf(ApiError);
    expect(err).toMatchObject({
      code: 'INVALID_PARAM',
      id: '3d81ceae-475f-4600-b2a8-2bc116157532',
      info: { param: '#/properties/name/type', reason: 'must be string' },
    });
  });

  it('multipart strings are cast for boolean params, and a bad cast is INVALID_PARAM', () => {
    const s: ObjectSchema = { type: 'object', properties: { isSensitive: { type: 'boolean' }, name: { type: 'string' } } };
    const fields: Record<string, unknown> = { isSensitive: 'true', name: 'true' };
    castMultipartFields(s, fields);
    expect(fields).toEqual({ isSensitive: true, name: 'true' });
    expect(() => castMultipartFields(s, { isSensitive: 'yes' })).toThrow(ApiError);
  });
});
