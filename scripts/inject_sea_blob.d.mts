/** A failure to inject: the file is not an ELF executable Node can run as a single executable. */
export class InjectError extends Error {}
/** Write `executable`: a copy of the ELF `node` at `from` with `blob` in it and its fuse set; on failure, nothing. */
export function injectSeaBlob(from: string, executable: string, blob: Buffer, sentinelFuse: string): void;
/** How many times `needle` is in the file at `path`. */
export function countInFile(path: string, needle: string): number;
