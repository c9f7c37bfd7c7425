// A node:test reporter that prints one last line, `N passed, N failed`, for CI to read.
// Suites are not counted, only the tests in them; a failing suite hook counts as a failure.
export default async function* summary(source) {
  let passed = 0
  let failed = 0
  for await (const event of source) {
    if (event.type !== 'test:pass' && event.type !== 'test:fail') continue
    if (event.data.details?.type === 'suite' && event.type === 'test:pass') continue
    if (event.type === 'test:pass') passed++
    else failed++
  }
  yield `${passed} passed, ${failed} failed\n`
}
