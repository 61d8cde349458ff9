import type { Channel } from '../../src-main/shared/channels';
import type { Args, ResultOf } from '../../src-main/shared/contract';
import type { Result } from '../../src-main/shared/result';
import { createTransport, type Transport } from './transport';

let transport: Transport | undefined;

export function getTransport(): Transport {
  transport ??= createTransport();
  return transport;
}

/** Calls main through whichever transport this window has; typed by the one contract. */
export function call<C extends Channel>(channel: C, arg: Args<C>): Promise<Result<ResultOf<C>>> {
  return getTransport().invoke(channel, arg) as Promise<Result<ResultOf<C>>>;
}
