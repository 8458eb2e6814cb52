// An http test before traffic: N requests to a URL the new version answers on, in waves of ten at once, each
// with its own timeout. The answers go back as they came (the status, and the body's start when the check has a
// pattern); the domain judges them. Redirects are answers, not followed: a test listener that redirects is
// the thing under test.
//
// The URL's host is resolved once, before any request, and refused when any address it resolves to is one
// the checking function must never reach (its runtime API on loopback, the metadata endpoints): a name can
// point there as well as a literal can. Every request then goes to the address judged, never to a second
// answer of the resolver, so a name that changes its answer between the check and the request (DNS
// rebinding) cannot slip through.
import { lookup } from 'node:dns/promises';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { LookupFunction } from 'node:net';
import { Readable } from 'node:stream';
import {
  BODY_READ_LIMIT,
  HTTP_CONCURRENCY,
  type HttpAnswer,
  type HttpCheck,
  isRefusedAddress,
  type TrafficCheckObservation,
} from '#domain/trafficChecks';
import type { TrafficCheckRunner } from '#ports';

/** An address a host name resolves to, as the resolver gives it. */
export interface ResolvedAddress {
  address: string;
  family: number;
}
export type Resolve = (hostname: string) => Promise<ResolvedAddress[]>;
/** One request, sent to `to` whatever the URL's host resolves to by then. */
export type Fetch = (url: string, init: RequestInit, to: ResolvedAddress) => Promise<Response>;

/** How the check reaches the network: the resolver's answer, and requests pinned to one of its addresses. */
export interface HttpNetwork {
  resolve: Resolve;
  fetch: Fetch;
}

const systemResolve: Resolve = (hostname) => lookup(hostname, { all: true, verbatim: true });

/** Node's http(s) client with the connection's lookup answered by the address given: no second lookup. */
export const pinnedFetch: Fetch = (url, init, to) =>
  new Promise((resolve, reject) => {
    const pinned: LookupFunction = (_hostname, options, callback) =>
      options.all ? callback(null, [to]) : callback(null, to.address, to.family);
    const send = new URL(url).protocol === 'https:' ? httpsRequest : httpRequest;
    const request = send(
      url,
      {
        method: init.method ?? 'GET',
        headers: init.headers as Record<string, string>,
        ...(init.signal ? { signal: init.signal } : {}),
        lookup: pinned,
      },
      (response) => {
        try {
          const status = response.statusCode ?? 0;
          const bodiless = init.method === 'HEAD' || status === 204 || status === 205 || status === 304;
          if (bodiless) response.resume();
          resolve(new Response(bodiless ? null : (Readable.toWeb(response) as ReadableStream), { status }));
        } catch (error) {
          response.destroy();
          reject(error);
        }
      },
    );
    request.on('error', reject);
    request.end();
  });

export class HttpTrafficCheck implements TrafficCheckRunner<HttpCheck> {
  constructor(private readonly network: HttpNetwork = { resolve: systemResolve, fetch: pinnedFetch }) {}

  async run(check: HttpCheck): Promise<TrafficCheckObservation> {
    const to = await this.destination(check);
    if ('failure' in to) return { kind: 'http', answers: Array.from({ length: check.requests }, () => to) };
    const answers: HttpAnswer[] = [];
    for (let sent = 0; sent < check.requests; sent += HTTP_CONCURRENCY) {
      const wave = Math.min(HTTP_CONCURRENCY, check.requests - sent);
      answers.push(...(await Promise.all(Array.from({ length: wave }, () => this.request(check, to)))));
    }
    return { kind: 'http', answers };
  }

  /** The address every request goes to, or why none is sent (the name does not resolve, or is refused). */
  private async destination(check: HttpCheck): Promise<ResolvedAddress | { failure: string }> {
    const hostname = new URL(check.url).hostname.replace(/^\[|\]$/g, '');
    let addresses: ResolvedAddress[];
    try {
      addresses = await this.network.resolve(hostname);
    } catch (error) {
      return { failure: failureOf(error, check) };
    }
    const refused = addresses.find((a) => isRefusedAddress(a.address));
    if (refused)
      return {
        failure: `${hostname} resolves to ${refused.address}, a loopback or link-local address (the checking function's own runtime and metadata endpoints): not requested`,
      };
    return addresses[0] ?? { failure: `${hostname} resolves to no address` };
  }

  private async request(check: HttpCheck, to: ResolvedAddress): Promise<HttpAnswer> {
    // One signal covers the answer and reading its body: a body that trickles in counts against the timeout.
    const signal = AbortSignal.timeout(check.timeoutSeconds * 1000);
    try {
      const response = await this.network.fetch(
        check.url,
        {
          method: check.method,
          redirect: 'manual',
          signal,
          headers: { 'user-agent': 'ecs-reflex-traffic-check' },
        },
        to,
      );
      if (check.bodyPattern === undefined) {
        await response.body?.cancel();
        return { status: response.status };
      }
      return { status: response.status, body: await bodyStart(response) };
    } catch (error) {
      return { failure: failureOf(error, check) };
    }
  }
}

/** Why a request got no answer: a timeout, or the error with its system code (ENOTFOUND, ECONNREFUSED). */
function failureOf(error: unknown, check: HttpCheck): string {
  const e = error as Error & { code?: string; cause?: { code?: string; name?: string } };
  const timedOut = e.name === 'TimeoutError' || e.cause?.name === 'TimeoutError';
  const why = timedOut ? `no answer within ${check.timeoutSeconds} s` : e.message;
  const code = timedOut ? undefined : (e.cause?.code ?? e.code);
  return code ? `${why} (${code})` : why;
}

/** The body's first BODY_READ_LIMIT bytes as text; the rest is not read. */
async function bodyStart(response: Response): Promise<string> {
  if (!response.body) return '';
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  while (size < BODY_READ_LIMIT) {
    const { done, value } = await reader.read();
    if (done) break;
    chunks.push(value);
    size += value.byteLength;
  }
  await reader.cancel();
  return Buffer.concat(chunks).subarray(0, BODY_READ_LIMIT).toString('utf8');
}
