// The ES module twin of ../cjs/index.js.
export const handler = async (event) => ({ statusCode: 200, body: JSON.stringify(event) });
