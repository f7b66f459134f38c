// A CommonJS handler in callback style.
const { createHash } = require('node:crypto');

exports.handler = (event, _context, callback) => {
  const amount = Number(event?.amount ?? 0);
  if (!Number.isFinite(amount) || amount <= 0) {
    callback(new Error('amount must be a positive number'));
    return;
  }
  const receipt = createHash('sha256').update(String(amount)).digest('hex').slice(0, 16);
  callback(null, { statusCode: 200, body: JSON.stringify({ receipt }) });
};
