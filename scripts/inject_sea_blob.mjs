// Put a single-executable preparation blob into a copy of an ELF `node` (linux-x64, linux-arm64), as
// postject does, without what made postject cost 7 of the build's 8 s of CPU: LIEF, compiled to
// WebAssembly, parsing the whole ~100 MB binary and writing every byte of it back.
//
// What Node needs, from its copy of postject-api.h (postject_find_resource, postject_has_resource):
// - the fuse string NODE_SEA_FUSE_…:0 turned into :1;
// - a PT_NOTE program header over memory that holds a note named NODE_SEA_BLOB whose descriptor is the
//   blob. Node walks its own program headers (dl_iterate_phdr), so the note must be in a PT_LOAD segment;
//   sections play no part.
// The program header table has no room for the two new entries (.interp follows it), so it moves: to
// the end of the file, into a new read-only PT_LOAD that also holds the note. Everything else stays
// byte for byte. The new segment's address keeps the first segment's address-to-offset difference, so
// that the kernel's AT_PHDR is right by both of its formulas (Linux before and since 5.18).
import { closeSync, copyFileSync, fstatSync, openSync, readSync, rmSync, writeSync } from 'node:fs';

const PT_LOAD = 1;
const PT_NOTE = 4;
const PT_PHDR = 6;
const PF_R = 4;
const PHDR_SIZE = 56; // Elf64_Phdr
const NOTE_NAME = Buffer.from('NODE_SEA_BLOB\0');

export class InjectError extends Error {}

/** Write `executable`: a copy of the ELF `node` at `from` with `blob` in it and its fuse set; on failure, nothing. */
export function injectSeaBlob(from, executable, blob, sentinelFuse) {
  copyFileSync(from, executable);
  try {
    const fd = openSync(executable, 'r+');
    try {
      inject(fd, blob, sentinelFuse);
    } finally {
      closeSync(fd);
    }
  } catch (error) {
    rmSync(executable, { force: true });
    throw error;
  }
}

function inject(fd, blob, sentinelFuse) {
  const header = readAt(fd, 0, 64);
  if (header.readUInt32BE(0) !== 0x7f454c46) fail('not an ELF file');
  if (header[4] !== 2 || header[5] !== 1) fail('not a 64-bit little-endian ELF file');
  const type = header.readUInt16LE(16);
  if (type !== 2 && type !== 3) fail(`an ELF file of type ${type}, not an executable`);
  const phoff = Number(header.readBigUInt64LE(32));
  const phnum = header.readUInt16LE(56);
  if (header.readUInt16LE(54) !== PHDR_SIZE) fail('unexpected program header size');

  const table = readAt(fd, phoff, phnum * PHDR_SIZE);
  const headers = Array.from({ length: phnum }, (_, i) => table.subarray(i * PHDR_SIZE, (i + 1) * PHDR_SIZE));
  const field = (ph, at) => Number(ph.readBigUInt64LE(at));
  const loads = headers.filter((ph) => ph.readUInt32LE(0) === PT_LOAD);
  const first = loads.find((ph) => field(ph, 8) === 0);
  if (!first) fail('no loadable segment starts at the beginning of the file');
  const bias = field(first, 16) - field(first, 8); // p_vaddr - p_offset
  const align = Math.max(0x10000, ...loads.map((ph) => field(ph, 48)));
  const end = Math.max(...loads.map((ph) => field(ph, 16) + field(ph, 40))); // p_vaddr + p_memsz

  // The fuse: exactly once in the file, not yet set.
  const fuse = Buffer.from(`${sentinelFuse}:`);
  const found = findAll(fd, fuse);
  if (found.length !== 1) fail(`the sentinel ${sentinelFuse} is in the binary ${found.length} times, not once`);
  const flag = found[0] + fuse.length;
  const state = readAt(fd, flag, 1).toString('latin1');
  if (state === '1') fail('the binary already holds a single-executable blob');
  if (state !== '0') fail(`the sentinel is followed by '${state}', not '0'`);

  // The new segment: the program header table, then the note (Elf64_Nhdr, name and descriptor each padded to 4).
  const offset = roundUp(Math.max(fstatSync(fd).size, end - bias), align);
  const tableSize = (phnum + 2) * PHDR_SIZE;
  const noteAt = roundUp(tableSize, 8);
  const noteSize = 12 + roundUp(NOTE_NAME.length, 4) + roundUp(blob.length, 4);
  const segment = Buffer.alloc(noteAt + noteSize);

  const entry = (type, flags, at, size, entryAlign) => {
    const ph = Buffer.alloc(PHDR_SIZE);
    ph.writeUInt32LE(type, 0);
    ph.writeUInt32LE(flags, 4);
    ph.writeBigUInt64LE(BigInt(offset + at), 8); // p_offset
    ph.writeBigUInt64LE(BigInt(offset + at + bias), 16); // p_vaddr
    ph.writeBigUInt64LE(BigInt(offset + at + bias), 24); // p_paddr
    ph.writeBigUInt64LE(BigInt(size), 32); // p_filesz
    ph.writeBigUInt64LE(BigInt(size), 40); // p_memsz
    ph.writeBigUInt64LE(BigInt(entryAlign), 48);
    return ph;
  };
  // Loadable segments stay in address order, the new one last, and PT_PHDR keeps its place before them.
  const lastLoad = headers.lastIndexOf(loads.at(-1));
  const moved = headers.map((ph) => (ph.readUInt32LE(0) === PT_PHDR ? entry(PT_PHDR, PF_R, 0, tableSize, 8) : ph));
  moved.splice(lastLoad + 1, 0, entry(PT_LOAD, PF_R, 0, segment.length, align), entry(PT_NOTE, PF_R, noteAt, noteSize, 4));
  Buffer.concat(moved).copy(segment, 0);

  segment.writeUInt32LE(NOTE_NAME.length, noteAt); // n_namesz
  segment.writeUInt32LE(blob.length, noteAt + 4); // n_descsz
  segment.writeUInt32LE(0, noteAt + 8); // n_type: Node looks at the name only
  NOTE_NAME.copy(segment, noteAt + 12);
  blob.copy(segment, noteAt + 12 + roundUp(NOTE_NAME.length, 4));

  writeAt(fd, offset, segment);
  const fields = Buffer.alloc(8);
  fields.writeBigUInt64LE(BigInt(offset));
  writeAt(fd, 32, fields); // e_phoff
  fields.writeUInt16LE(phnum + 2);
  writeAt(fd, 56, fields.subarray(0, 2)); // e_phnum
  writeAt(fd, flag, Buffer.from('1'));
}

/** How many times `needle` is in the file at `path`. */
export function countInFile(path, needle) {
  const fd = openSync(path, 'r');
  try {
    return findAll(fd, Buffer.from(needle)).length;
  } finally {
    closeSync(fd);
  }
}

/** The offsets of every `needle` in the file, read a few megabytes at a time (not all 100 MB at once). */
function findAll(fd, needle) {
  const chunk = Buffer.alloc(8 << 20);
  const found = [];
  let position = 0;
  let kept = 0; // bytes carried over from the previous chunk, so that a needle across two is found
  for (;;) {
    const read = readSync(fd, chunk, kept, chunk.length - kept, position);
    const filled = kept + read;
    for (let at = chunk.indexOf(needle); at !== -1 && at + needle.length <= filled; at = chunk.indexOf(needle, at + 1)) {
      found.push(position - kept + at);
    }
    if (read === 0) return found;
    position += read;
    kept = Math.min(needle.length - 1, filled);
    chunk.copy(chunk, 0, filled - kept, filled);
  }
}

function readAt(fd, position, length) {
  const buffer = Buffer.alloc(length);
  if (readSync(fd, buffer, 0, length, position) !== length) fail('the file ends early');
  return buffer;
}

function writeAt(fd, position, buffer) {
  for (let done = 0; done < buffer.length; ) done += writeSync(fd, buffer, done, buffer.length - done, position + done);
}

const roundUp = (n, to) => Math.ceil(n / to) * to;

function fail(message) {
  throw new InjectError(message);
}
