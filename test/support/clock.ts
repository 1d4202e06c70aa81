/**
 * Moving the app's clock (`Date.now`, which `nowSeconds` reads) forward, so that a rule about
 * time ("after the window…") is tested without waiting. Stores compare times the app hands
 * them, so this works with the Redis and PostgreSQL stores too.
 */

/** Run the app `seconds` in the future until the returned function is called. */
export function advanceClock(seconds: number): () => void {
  const real = Date.now.bind(Date);
  const spy = jest.spyOn(Date, 'now').mockImplementation(() => real() + seconds * 1000);
  return () => spy.mockRestore();
}
