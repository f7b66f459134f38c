// The function measured by bench/cases/cold-start.ts: as small as a handler gets, so that what is
// measured is the instrumentation.
exports.handler = async (event) => ({ statusCode: 200, body: JSON.stringify(event) });
