/**
 * The third-party code only `edit` needs. The CLI build keeps it in a bundle of its own
 * (dist/editor_deps.cjs), loaded on first use: it is most of the CLI's code, and every other command
 * would otherwise pay for reading and parsing it.
 */
export { execa } from 'execa';
