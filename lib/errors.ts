import type { IConstruct } from 'constructs';

/**
 * A construct refused its properties. Like aws-cdk-lib's ValidationError it
 * carries the construct path, and the message ends with it, so a user with
 * many functions sees which one to change.
 */
export class ConstructValidationError extends Error {
  /** Path of the construct whose properties are wrong, e.g. `MyStack/Api`. */
  public readonly constructPath: string;

  constructor(constructPath: string, message: string) {
    super(`${message} (at ${constructPath})`);
    this.name = 'ValidationError';
    this.constructPath = constructPath;
  }
}

/** An error about `construct`'s properties. */
export function constructError(construct: IConstruct, message: string): ConstructValidationError {
  return new ConstructValidationError(construct.node.path, message);
}

/** The path the construct `id` will have under `scope` (for checks that run before `super()`). */
export function childPath(scope: IConstruct, id: string): string {
  const parent = scope.node.path;
  return parent === '' ? id : `${parent}/${id}`;
}
