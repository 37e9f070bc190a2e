import { GitError } from './git-error.js';

// What `git check-ref-format` refuses in a branch or tag name: control
// characters, space, ~ ^ : ? * [ \, "..", "@{", a leading "-", "/" or ".",
// a trailing "/" or ".", and ".lock" at the end.
const refused =
  // eslint-disable-next-line no-control-regex
  /[\u0000-\u0020\u007f~^:?*[\\]|\.\.|@\{|^[-/.]|[/.]$|\.lock$/;

/** Checks a branch or tag name (`main`, `release/1.2`); returns it. */
export function checkRefName(name: string): string {
  if (
    typeof name !== 'string' ||
    name.length === 0 ||
    name.length > 1024 ||
    refused.test(name)
  ) {
    throw new GitError(
      'INVALID_REVISION',
      `${JSON.stringify(String(name).slice(0, 80))} is not a branch or tag name: use one like main or v1.2`,
    );
  }
  return name;
}
