/**
 * Waits for `work` but not past `deadlineMs` (epoch ms); resolves true when the work finished in time.
 * Every deadline in the contracts (`Exporter.flush(deadlineMs)`, the flush scheduler's) is kept with it.
 */
export async function withDeadline(work: Promise<unknown>, deadlineMs: number, now = Date.now): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), Math.max(0, deadlineMs - now()));
  });
  try {
    return await Promise.race([work.then(() => true), timeout]);
  } finally {
    clearTimeout(timer);
  }
}
