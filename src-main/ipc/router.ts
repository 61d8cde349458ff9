import { isChannel, type Channel } from '../shared/channels';
import { schemas } from '../shared/contract';
import { AppError, isAppError } from '../shared/errors';
import { fail, ok, type Result } from '../shared/result';
import type { Services } from '../services/app-services';
import { handlers as defaultHandlers, type Handler, type Handlers } from './handlers';

export type Dispatch = (channel: string, arg: unknown) => Promise<Result<unknown>>;

/** Logs a failure that is not an AppError (a bug), without secrets: only name, message and stack. */
export type ErrorLogger = (channel: string, error: unknown) => void;

/**
 * The one entry point for every transport: refuses unknown channels, validates the single
 * object argument against the contract, runs the handler, and turns any failure into data.
 */
export function createDispatch(services: Services, log: ErrorLogger = defaultLog, table: Handlers = defaultHandlers): Dispatch {
  return async (channel, arg) => {
    if (!isChannel(channel)) return fail({ code: 'UNKNOWN_CHANNEL', message: `Unknown channel: ${channel.slice(0, 100)}` });
    const parsed = schemas[channel].safeParse(arg);
    if (!parsed.success) {
      const issues = parsed.error.issues.slice(0, 10).map((i) => ({ path: i.path.join('.'), message: i.message }));
      return fail({ code: 'INVALID_ARGUMENT', message: 'The request was not valid', details: { issues } });
    }
    try {
      const handler = table[channel] as Handler<Channel>;
      return ok(await handler(parsed.data as never, services));
    } catch (e) {
      if (isAppError(e)) return fail(e.toData());
      log(channel, e);
      return fail(new AppError('INTERNAL', 'Something went wrong inside the app').toData());
    }
  };
}

function defaultLog(channel: string, error: unknown): void {
  const e = error as Error;
  console.error(`[ohitori] ${channel} failed: ${e?.name ?? 'Error'}: ${e?.message ?? String(error)}\n${e?.stack ?? ''}`);
}
