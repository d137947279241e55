import type { DescMethod, Message } from "@bufbuild/protobuf";
import { createRegistry } from "@bufbuild/protobuf";
import { CelScalar, celEnv, isCelError, listType, mapType, objectType, parse, plan } from "@bufbuild/cel";

/** What a condition sees of a call. */
export interface ConditionInput {
  /** The caller's claims (a JWT payload); empty for credentials without claims. */
  readonly claims: Readonly<Record<string, unknown>>;
  /** The caller's granted scopes. */
  readonly scopes: ReadonlySet<string>;
  /** The caller's subject. */
  readonly subject: string;
  /** The request message, for conditions that name `request`. */
  readonly request?: Message;
}

/** A CEL condition of a rule, compiled once. */
export interface CompiledCondition {
  /** The expression as written. */
  readonly source: string;
  /** Whether it names `request`, so that it can only run once the request message is parsed. */
  readonly readsRequest: boolean;
  /**
   * Evaluates the condition: `true` only when it evaluates to the boolean `true`. `false` when it
   * evaluates to anything else, and `"error"` when it fails (a missing claim, a type error): both deny.
   */
  evaluate(input: ConditionInput): boolean | "error";
}

const variables = new Set(["claims", "scopes", "subject", "request"]);
// Identifiers CEL itself defines (type names, usable as values: `type(x) == int`).
const builtins = new Set(["int", "uint", "double", "bool", "string", "bytes", "list", "map", "null_type", "type", "dyn"]);

/**
 * Compiles the CEL condition of a method's rule with `@bufbuild/cel`. The expression sees `claims`
 * (a map), `scopes` (a list of strings), `subject` (a string) and `request` (the method's input message,
 * by proto field names). Checked at compile time: the syntax, that every identifier is one of those
 * (or a comprehension's variable), and that every `request.<field>` names a field of the input.
 *
 * ```ts
 * const c = compileCondition("request.tenant_id == claims.tenant", TenantService.method.getInvoice);
 * c.evaluate({ claims: { tenant: "t1" }, scopes: new Set(), subject: "alice", request }); // true or false
 * ```
 *
 * @throws TypeError naming the method (or `where`) when the expression does not compile.
 */
export function compileCondition(source: string, method: DescMethod | undefined, where?: string): CompiledCondition {
  const name = where ?? (method ? `${method.parent.typeName}/${method.name}` : "a rule");
  let parsed;
  try {
    parsed = parse(source);
  } catch (error) {
    throw new TypeError(`the condition of ${name} does not compile: ${(error as Error).message}`);
  }
  const problems: string[] = [];
  let readsRequest = false;
  walk(parsed.expr, new Set(), (ident, select) => {
    if (ident === "request") {
      readsRequest = true;
      if (select !== undefined && method !== undefined && !method.input.fields.some((f) => f.name === select)) {
        problems.push(`${method.input.typeName} has no field "${select}"`);
      }
    } else if (!variables.has(ident) && !builtins.has(ident)) {
      problems.push(`unknown identifier "${ident}" (known: claims, scopes, subject, request)`);
    }
  });
  if (problems.length > 0) {
    throw new TypeError(`the condition of ${name} does not compile: ${problems.join("; ")}`);
  }
  const env = celEnv({
    registry: method ? createRegistry(method.input) : undefined,
    variables: {
      claims: mapType(CelScalar.STRING, CelScalar.DYN),
      scopes: listType(CelScalar.STRING),
      subject: CelScalar.STRING,
      ...(method ? { request: objectType(method.input) } : {}),
    },
  });
  const evaluate = plan(env, parsed) as (bindings: Record<string, unknown>) => unknown;
  return {
    source,
    readsRequest,
    evaluate(input) {
      try {
        const result = evaluate({
          claims: input.claims,
          scopes: [...input.scopes],
          subject: input.subject,
          ...(input.request !== undefined ? { request: input.request } : {}),
        });
        if (isCelError(result)) return "error";
        return result === true;
      } catch {
        // Never allow on a failure of the evaluator itself.
        return "error";
      }
    },
  };
}

type Expr = ReturnType<typeof parse>["expr"];

/**
 * Visits every free identifier of an expression, with the field selected of it when the identifier is
 * the operand of a select (`request.tenant_id` → "request", "tenant_id").
 */
function walk(expr: Expr | undefined, bound: ReadonlySet<string>, visit: (ident: string, select?: string) => void): void {
  if (expr === undefined) return;
  const kind = expr.exprKind;
  switch (kind.case) {
    case "identExpr":
      if (!bound.has(kind.value.name)) visit(kind.value.name);
      return;
    case "selectExpr": {
      const operand = kind.value.operand;
      if (operand?.exprKind.case === "identExpr" && !bound.has(operand.exprKind.value.name)) {
        visit(operand.exprKind.value.name, kind.value.field);
        return;
      }
      walk(operand, bound, visit);
      return;
    }
    case "callExpr":
      walk(kind.value.target, bound, visit);
      for (const a of kind.value.args) walk(a, bound, visit);
      return;
    case "listExpr":
      for (const e of kind.value.elements) walk(e, bound, visit);
      return;
    case "structExpr":
      for (const e of kind.value.entries) {
        if (e.keyKind.case === "mapKey") walk(e.keyKind.value, bound, visit);
        walk(e.value, bound, visit);
      }
      return;
    case "comprehensionExpr": {
      const c = kind.value;
      walk(c.iterRange, bound, visit);
      walk(c.accuInit, bound, visit);
      const inner = new Set([...bound, c.iterVar, c.iterVar2, c.accuVar].filter((v) => v !== ""));
      walk(c.loopCondition, inner, visit);
      walk(c.loopStep, inner, visit);
      walk(c.result, inner, visit);
      return;
    }
    default:
      return;
  }
}
