export * from './lambda.js';
export * from './model.js';
