/** Bytes that are not well-formed protobuf: a truncated varint or field, a bad wire type, a field number 0. */
export class WireFormatError extends Error {}
