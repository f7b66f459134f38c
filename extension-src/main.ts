/**
 * Entry point of the observed-lambda extension, started by Lambda as
 * /opt/extensions/observed-lambda.
 */
console.log('[observed-lambda] starting');
