/**
 * `${name}` placeholders in suite values, with integer arithmetic (`${count + 1}`). A string that is
 * exactly one placeholder keeps the value's type (a number stays a number), so a captured count can
 * be compared with a JSON number; anything else is string interpolation.
 */

export type Vars = ReadonlyMap<string, string | number>;

export class TemplateError extends Error {}

const PLACEHOLDER = /\$\{([^}]*)\}/g;
const WHOLE = /^\$\{([^}]*)\}$/;

export function substitute(value: unknown, vars: Vars): unknown {
  if (typeof value === "string") return substituteString(value, vars);
  if (Array.isArray(value)) return value.map((item) => substitute(item, vars));
  if (value && typeof value === "object") {
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, substitute(item, vars)]));
  }
  return value;
}

export function substituteString(text: string, vars: Vars): string | number {
  const whole = WHOLE.exec(text);
  if (whole) return evaluate(whole[1] ?? "", vars);
  return text.replace(PLACEHOLDER, (_match, expression: string) => String(evaluate(expression, vars)));
}

type Token =
  | { kind: "number"; value: number }
  | { kind: "name"; value: string }
  | { kind: "op"; value: string };

function tokenize(expression: string): Token[] {
  const tokens: Token[] = [];
  const pattern = /\s*(?:(\d+)|([A-Za-z_][A-Za-z0-9_]*)|([-+*/%()]))/y;
  let index = 0;
  while (index < expression.length) {
    if (/^\s*$/.test(expression.slice(index))) break;
    pattern.lastIndex = index;
    const match = pattern.exec(expression);
    if (!match)
      throw new TemplateError(`Cannot read "\${${expression}}" at "${expression.slice(index).trim()}".`);
    index = pattern.lastIndex;
    if (match[1] !== undefined) tokens.push({ kind: "number", value: Number(match[1]) });
    else if (match[2] !== undefined) tokens.push({ kind: "name", value: match[2] });
    else tokens.push({ kind: "op", value: match[3] ?? "" });
  }
  return tokens;
}

/**
 * A recursive-descent evaluator for + - * / % and parentheses over integers. A lone variable may be
 * a string; arithmetic needs integers and says which variable was not one.
 */
export function evaluate(expression: string, vars: Vars): string | number {
  const tokens = tokenize(expression);
  if (tokens.length === 0) throw new TemplateError("Empty placeholder ${}.");
  let position = 0;
  const peek = () => tokens[position];
  const lookup = (name: string) => {
    const value = vars.get(name);
    if (value === undefined) {
      const known = [...vars.keys()];
      throw new TemplateError(
        `Unknown variable "${name}"${known.length ? ` (known: ${known.join(", ")})` : " (nothing captured yet)"}.`,
      );
    }
    return value;
  };
  const integer = (value: string | number, name: string): number => {
    const number = typeof value === "number" ? value : Number(value);
    if (!Number.isSafeInteger(number) || (typeof value === "string" && !/^-?\d+$/.test(value.trim()))) {
      throw new TemplateError(
        `"${name}" is ${JSON.stringify(value)}, not an integer, in "\${${expression}}".`,
      );
    }
    return number;
  };

  const primary = (): number => {
    const token = tokens[position++];
    if (!token) throw new TemplateError(`"\${${expression}}" ends too early.`);
    if (token.kind === "number") return token.value;
    if (token.kind === "name") return integer(lookup(token.value), token.value);
    if (token.value === "-") return -primary();
    if (token.value === "(") {
      const value = sum();
      if (tokens[position++]?.value !== ")") throw new TemplateError(`Missing ")" in "\${${expression}}".`);
      return value;
    }
    throw new TemplateError(`Unexpected "${token.value}" in "\${${expression}}".`);
  };
  const product = (): number => {
    let value = primary();
    for (let token = peek(); token?.kind === "op" && "*/%".includes(token.value); token = peek()) {
      position += 1;
      const right = primary();
      if (token.value !== "*" && right === 0)
        throw new TemplateError(`Division by zero in "\${${expression}}".`);
      value =
        token.value === "*" ? value * right : token.value === "/" ? Math.trunc(value / right) : value % right;
    }
    return value;
  };
  const sum = (): number => {
    let value = product();
    for (let token = peek(); token?.kind === "op" && "+-".includes(token.value); token = peek()) {
      position += 1;
      value = token.value === "+" ? value + product() : value - product();
    }
    return value;
  };

  const only = tokens[0];
  if (tokens.length === 1 && only?.kind === "name") return lookup(only.value);
  const result = sum();
  if (position !== tokens.length) {
    throw new TemplateError(`Unexpected "${tokens[position]?.value}" in "\${${expression}}".`);
  }
  return result;
}
