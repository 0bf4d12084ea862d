/** Thrown by `withTimeout` when the time is up. */
export class TimeoutError extends Error {
  constructor(what: string, ms: number) {
    super(`${what} did not finish within ${ms} ms`);
    this.name = 'TimeoutError';
  }
}

/**
 * `promise`, or a TimeoutError after `ms`. The promise keeps running (nothing here can cancel
 * it); its late failure is swallowed so it cannot become an unhandled rejection.
 */
export function withTimeout<T>(promise: Promise<T>, ms: number, what = 'the operation'): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  promise.catch(() => {});
  return Promise.race([
    promise,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new TimeoutError(what, ms)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

/**
 * Like `withTimeout`, but a reply that has already arrived wins over the deadline. Node runs
 * expired timers before it reads the sockets, so on a busy event loop a plain timeout measures
 * the queueing in front of the reply, not the reply: a Redis answer that came back in 1 ms
 * waits behind other requests' work and loses to a 10 ms timer. Here the timer only gives up
 * after one more turn of the loop (`setImmediate` runs after the poll phase has read every
 * ready socket), so a promise that I/O already settled resolves first. A dependency that is
 * really down still fails after about `ms`.
 *
 * `keepWaiting`, asked at each deadline, may extend the wait by another `ms` (the caller
 * knows whether the dependency is answering other requests meanwhile); it must bound that.
 */
export function withReplyTimeout<T>(
  promise: Promise<T>,
  ms: number,
  what = 'the operation',
  keepWaiting?: () => boolean,
): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  let immediate: NodeJS.Immediate | undefined;
  promise.catch(() => {});
  return Promise.race([
    promise,
    new Promise<never>((_, reject) => {
      const arm = () => {
        timer = setTimeout(() => {
          immediate = setImmediate(() => (keepWaiting?.() ? arm() : reject(new TimeoutError(what, ms))));
        }, ms);
      };
      arm();
    }),
  ]).finally(() => {
    clearTimeout(timer);
    if (immediate) clearImmediate(immediate);
  });
}
