/**
 * Finds and reads a pipeline configuration file for the CLI (`validate`,
 * `plan`): `kiln.yaml`, else `valohai.yaml`, in a directory, or a file named
 * directly. The size is checked before anything is read, and the read itself
 * is bounded, so a huge or growing file cannot exhaust memory.
 */
import { open, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { KilnError } from '../errors.js';

/** Refuse anything larger: real configuration files are a few KiB. */
export const maxConfigBytes = 1024 * 1024;

export const configFileNames = ['kiln.yaml', 'valohai.yaml'] as const;

export type ConfigFileErrorCode =
  | 'CONFIG_NOT_FOUND'
  | 'CONFIG_TOO_LARGE'
  | 'CONFIG_NOT_UTF8'
  | 'CONFIG_UNREADABLE';

export class ConfigFileError extends KilnError {
  readonly code: ConfigFileErrorCode;
  readonly file: string;
  constructor(options: {
    code: ConfigFileErrorCode;
    file: string;
    message: string;
  }) {
    super(options.message);
    this.code = options.code;
    this.file = options.file;
  }
}

async function statOrUndefined(path: string) {
  try {
    return await stat(path);
  } catch {
    return undefined;
  }
}

async function findConfigFile(pathOrDir: string): Promise<string> {
  const info = await statOrUndefined(pathOrDir);
  if (info === undefined) {
    throw new ConfigFileError({
      code: 'CONFIG_NOT_FOUND',
      file: pathOrDir,
      message: `${pathOrDir} does not exist; pass a kiln.yaml or valohai.yaml file or the directory that holds one`,
    });
  }
  if (!info.isDirectory()) return pathOrDir;
  for (const name of configFileNames) {
    const candidate = join(pathOrDir, name);
    if ((await statOrUndefined(candidate))?.isFile()) return candidate;
  }
  throw new ConfigFileError({
    code: 'CONFIG_NOT_FOUND',
    file: pathOrDir,
    message: `neither kiln.yaml nor valohai.yaml found in ${pathOrDir}; create one (see docs/configuration-file.md) or pass the file's path`,
  });
}

function tooLarge(file: string, size: number): ConfigFileError {
  return new ConfigFileError({
    code: 'CONFIG_TOO_LARGE',
    file,
    message: `${file} is ${size} bytes, more than the ${maxConfigBytes} bytes kiln reads; split it or remove generated content`,
  });
}

/** Reads the configuration at `pathOrDir` (a file, or a directory to search). */
export async function readConfigFile(
  pathOrDir: string,
): Promise<{ file: string; text: string }> {
  const file = await findConfigFile(pathOrDir);
  let bytes: Buffer;
  try {
    const handle = await open(file, 'r');
    try {
      const info = await handle.stat();
      const size = info.size;
      if (!info.isFile()) {
        throw new ConfigFileError({
          code: 'CONFIG_UNREADABLE',
          file,
          message: `${file} is not a regular file`,
        });
      }
      if (size > maxConfigBytes) throw tooLarge(file, size);
      // One byte more than allowed tells a file that grew since stat.
      const buffer = Buffer.alloc(maxConfigBytes + 1);
      let length = 0;
      for (;;) {
        const { bytesRead } = await handle.read(
          buffer,
          length,
          buffer.length - length,
          length,
        );
        if (bytesRead === 0) break;
        length += bytesRead;
        if (length > maxConfigBytes) throw tooLarge(file, length);
      }
      bytes = buffer.subarray(0, length);
    } finally {
      await handle.close();
    }
  } catch (error) {
    if (error instanceof ConfigFileError) throw error;
    throw new ConfigFileError({
      code: 'CONFIG_UNREADABLE',
      file,
      message: `cannot read ${file}: ${(error as Error).message}`,
    });
  }
  try {
    return {
      file,
      text: new TextDecoder('utf-8', { fatal: true }).decode(bytes),
    };
  } catch {
    throw new ConfigFileError({
      code: 'CONFIG_NOT_UTF8',
      file,
      message: `${file} is not valid UTF-8; save it as UTF-8`,
    });
  }
}
