// Glob matching for trigger `branches` and `paths`: `*` and `?` stay inside
// one `/`-separated segment, `**` crosses segments, and a `**` segment also
// matches zero directories (`src/**/x.py` matches `src/x.py`). Everything
// else is literal (no character classes or braces). Matching is a table
// over (glob position, text position), so hostile globs and names cost at
// most their lengths multiplied, never exponential backtracking.
type Token =
  | { kind: 'literal'; char: string }
  | { kind: 'star' }
  | { kind: 'globstar' }
  | { kind: 'globstar-slash' }
  | { kind: 'any' };

const maxGlobLength = 512;
const maxTextLength = 4096;

function tokenize(glob: string): Token[] {
  const tokens: Token[] = [];
  for (let i = 0; i < glob.length; i += 1) {
    const char = glob[i] ?? '';
    if (char === '*' && glob[i + 1] === '*') {
      i += 1;
      while (glob[i + 1] === '*') i += 1;
      if (glob[i + 1] === '/') {
        i += 1;
        tokens.push({ kind: 'globstar-slash' });
      } else {
        tokens.push({ kind: 'globstar' });
      }
    } else if (char === '*') {
      tokens.push({ kind: 'star' });
    } else if (char === '?') {
      tokens.push({ kind: 'any' });
    } else {
      tokens.push({ kind: 'literal', char });
    }
  }
  return tokens;
}

export function matchGlob(glob: string, text: string): boolean {
  if (glob.length > maxGlobLength || text.length > maxTextLength) return false;
  const tokens = tokenize(glob);
  // reachable[j]: the tokens consumed so far can match text[0..j).
  let reachable: boolean[] = new Array<boolean>(text.length + 1).fill(false);
  reachable[0] = true;
  for (const token of tokens) {
    reachable = step(token, reachable, text);
  }
  return reachable[text.length] === true;
}

/** One token over every text position: linear in the text length. */
function step(token: Token, reachable: boolean[], text: string): boolean[] {
  const next = new Array<boolean>(text.length + 1).fill(false);
  // Whether some earlier reachable position can extend to here.
  let open = false;
  for (let k = 0; k <= text.length; k += 1) {
    const here = reachable[k] === true;
    const char = text[k];
    switch (token.kind) {
      case 'literal':
        if (here && char === token.char) next[k + 1] = true;
        break;
      case 'any':
        if (here && char !== undefined && char !== '/') next[k + 1] = true;
        break;
      case 'star':
        // `*` spans text[j..k) as long as it holds no `/`.
        if (here) open = true;
        if (open) next[k] = true;
        if (char === '/') open = false;
        break;
      case 'globstar':
        if (here) open = true;
        if (open) next[k] = true;
        break;
      case 'globstar-slash':
        // Zero directories, or anything ending with a `/`.
        if (here) {
          open = true;
          next[k] = true;
        }
        if (open && char === '/') next[k + 1] = true;
        break;
    }
  }
  return next;
}
