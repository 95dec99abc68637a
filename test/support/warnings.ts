/** The codes of the warnings `process.emitWarning` is asked for until `stop()`, which none prints. */
export function warnings(): { codes: string[]; stop(): void } {
  const codes: string[] = [];
  const spy = jest.spyOn(process, 'emitWarning').mockImplementation(((
    _: string,
    options?: { code?: string },
  ) => {
    codes.push(options?.code ?? '');
  }) as typeof process.emitWarning);
  return { codes, stop: () => spy.mockRestore() };
}
