// near-sdk-js's build-time checks (its CLI's checkTypescript and validateContract), run before
// bundling: the contract must type-check, and every field of a @NearBindgen class without an
// initializer must be assigned in the class's constructor.
import path from "node:path";
import ts from "typescript";

/**
 * near-sdk-js runs `tsc --noEmit --skipLibCheck --experimentalDecorators --target es2020` on the
 * entry. Bundler resolution and .ts import extensions are added because the toolchain bundles
 * with rollup, which follows both (node resolution would refuse `./state.ts` imports).
 */
const COMPILER_OPTIONS: ts.CompilerOptions = {
  noEmit: true,
  skipLibCheck: true,
  experimentalDecorators: true,
  target: ts.ScriptTarget.ES2020,
  module: ts.ModuleKind.ESNext,
  moduleResolution: ts.ModuleResolutionKind.Bundler,
  allowImportingTsExtensions: true,
  types: [],
};

/** At most this many diagnostics are quoted in the error. */
const MAX_DIAGNOSTICS = 20;

/** near-sdk-js's message, so that failures read the same with either build. */
export const UNINITIALIZED_FIELDS =
  "All parameters must be initialized in the constructor. Uninitialized parameters:";

function describe(diagnostic: ts.Diagnostic, root: string): string {
  const message = ts.flattenDiagnosticMessageText(diagnostic.messageText, "\n");
  if (diagnostic.file === undefined || diagnostic.start === undefined) return message;
  const { line, character } = diagnostic.file.getLineAndCharacterOfPosition(diagnostic.start);
  const file = path.relative(root, diagnostic.file.fileName);
  return `${file}:${line + 1}:${character + 1}: TS${diagnostic.code}: ${message}`;
}

/** Type-checks the contract from its entry; throws with the compiler's diagnostics. */
export function typecheckContract(entry: string, root: string): ts.Program {
  const program = ts.createProgram([entry], COMPILER_OPTIONS);
  const diagnostics = ts.getPreEmitDiagnostics(program);
  if (diagnostics.length > 0) {
    const shown = diagnostics.slice(0, MAX_DIAGNOSTICS).map((d) => describe(d, root));
    const more = diagnostics.length - shown.length;
    throw new Error(
      `${diagnostics.length} type error(s):\n${shown.join("\n")}${more > 0 ? `\n… and ${more} more` : ""}`,
    );
  }
  return program;
}

function decoratorNames(node: ts.ClassDeclaration): string[] {
  return (ts.getDecorators(node) ?? []).map((d) => {
    const expression = ts.isCallExpression(d.expression) ? d.expression.expression : d.expression;
    return ts.isIdentifier(expression) ? expression.text : expression.getText();
  });
}

/**
 * near-sdk-js's validateContract on the entry file: for each @NearBindgen class, the names of
 * fields without an initializer must appear as `this.<name>` in its constructor.
 */
export function checkFieldsInitialised(program: ts.Program, entry: string): void {
  const source = program.getSourceFile(entry);
  if (source === undefined) throw new Error(`${entry} is not part of the program`);
  const problems: string[] = [];
  for (const statement of source.statements) {
    if (!ts.isClassDeclaration(statement) || !decoratorNames(statement).includes("NearBindgen")) {
      continue;
    }
    const uninitialised = statement.members
      .filter((m): m is ts.PropertyDeclaration => ts.isPropertyDeclaration(m))
      .filter((m) => m.initializer === undefined)
      .map((m) => m.name.getText(source));
    if (uninitialised.length === 0) continue;
    const constructorDeclaration = statement.members.find(ts.isConstructorDeclaration);
    const body = constructorDeclaration?.getText(source) ?? "";
    const missing = uninitialised.filter((name) => !body.includes(`this.${name}`));
    if (missing.length > 0) {
      const name = statement.name?.text ?? "(anonymous class)";
      problems.push(`${name}: ${UNINITIALIZED_FIELDS} ${missing.join(", ")}`);
    }
  }
  if (problems.length > 0) throw new Error(problems.join("\n"));
}
