export { anyValue, attributeValue, toAttributes } from './attributes.js';
export { detectLambdaResource, type LambdaIdentity, parseFunctionArn } from './detect.js';
export { encodeDetected, enrichPayload, enrichResource } from './enrich.js';
export { LambdaResource } from './lambda-resource.js';
