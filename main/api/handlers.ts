/**
 * Transport-independent handlers for the API contract. Requests arrive as `unknown` from either
 * transport and are validated here before use.
 */
import { type Channel, isChannel, type Response } from './contract.js';
import { packageVersion } from '../paths.js';

export async function handle<C extends Channel>(channel: C, _request: unknown): Promise<Response<C>> {
  if (!isChannel(channel)) throw new Error(`unknown channel ${String(channel)}`);
  switch (channel) {
    case 'app:info':
      return { name: 'Facets', version: packageVersion(), platform: process.platform } as Response<C>;
    default:
      throw new Error(`unhandled channel ${String(channel)}`);
  }
}
