// What a built-in imports from the rest of Keel, held to what a user can import from the package.
// A name counts as public when the symbol it resolves to (through every re-export) is one that the
// package's entries export: `lib/index.ts` (`keel`) and each `keel/<sub>` export of package.json.
// Names are compared, not modules: `inject` read from `container/inversify` is the `inject` a user
// has, while `createEtcdClient` read from `settings/etcd-client` is public only if an entry exports it.
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import * as ts from 'typescript';

export const ROOT = path.resolve(__dirname, '../..');
const LIB = path.join(ROOT, 'lib');

/** The built-in folders held to the rule. A unit's own files may import each other freely. */
export const BUILT_IN_ROOTS = ['resources', 'tracing', 'contracts'];

/** Entry files of the package: `.` and every `./<sub>` of package.json's exports, as sources. */
export function entrySources(): string[] {
  const pkg = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as {
    exports: Record<string, unknown>;
  };
  const entries = [path.join(LIB, 'index.ts')];
  for (const sub of Object.keys(pkg.exports)) {
    if (sub === '.' || sub === './package.json') continue;
    entries.push(path.join(LIB, sub.slice(2), 'index.ts'));
  }
  return entries;
}

/**
 * The unit a file belongs to: `lib/resources/<folder>/` for a file in a resource's folder, the files
 * directly in `lib/resources/` together (the default resources: report server, status, metrics), and
 * each other built-in root as a whole. `undefined` for a file outside the built-ins.
 */
export function unitOf(file: string): string | undefined {
  const rel = path.relative(LIB, file).split(path.sep);
  if (!BUILT_IN_ROOTS.includes(rel[0])) return undefined;
  if (rel[0] === 'resources') return rel.length > 2 ? `resources/${rel[1]}` : 'resources';
  return rel[0];
}

export interface Violation {
  file: string;
  line: number;
  module: string;
  name: string;
}

function isRelative(specifier: string): boolean {
  return specifier.startsWith('./') || specifier.startsWith('../');
}

function program(): ts.Program {
  const configPath = path.join(ROOT, 'tsconfig.json');
  const config = ts.readConfigFile(configPath, (f) => ts.sys.readFile(f));
  const parsed = ts.parseJsonConfigFileContent(config.config, ts.sys, ROOT);
  const roots = parsed.fileNames.filter((f) => path.resolve(f).startsWith(LIB + path.sep));
  return ts.createProgram(roots, { ...parsed.options, noEmit: true });
}

export function findViolations(): Violation[] {
  const prog = program();
  const checker = prog.getTypeChecker();
  const resolve = (symbol: ts.Symbol): ts.Symbol =>
    symbol.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(symbol) : symbol;

  const publicSymbols = new Set<ts.Symbol>();
  for (const entry of entrySources()) {
    const source = prog.getSourceFile(entry);
    if (!source) throw new Error(`entry ${entry} is not in the program`);
    const moduleSymbol = checker.getSymbolAtLocation(source);
    if (!moduleSymbol) continue;
    for (const exported of checker.getExportsOfModule(moduleSymbol)) publicSymbols.add(resolve(exported));
  }

  const violations: Violation[] = [];
  for (const source of prog.getSourceFiles()) {
    const file = path.resolve(source.fileName);
    const unit = unitOf(file);
    if (!unit) continue;
    const outside = (specifier: string): string | undefined => {
      if (!isRelative(specifier)) return undefined;
      const resolved = ts.resolveModuleName(
        specifier,
        file,
        prog.getCompilerOptions(),
        ts.sys,
      ).resolvedModule;
      const target = resolved
        ? path.resolve(resolved.resolvedFileName)
        : path.resolve(path.dirname(file), specifier);
      return unitOf(target) === unit ? undefined : target;
    };
    const report = (node: ts.Node, module: string, name: string) => {
      const { line } = source.getLineAndCharacterOfPosition(node.getStart(source));
      violations.push({ file: path.relative(ROOT, file), line: line + 1, module, name });
    };
    const checkName = (node: ts.Identifier, module: string) => {
      const symbol = checker.getSymbolAtLocation(node);
      if (!symbol || !publicSymbols.has(resolve(symbol))) report(node, module, node.text);
    };

    const visit = (node: ts.Node): void => {
      // `export … from` publishes a name rather than using one, so only imports are held to the rule.
      if (ts.isImportDeclaration(node)) {
        const spec = node.moduleSpecifier;
        if (ts.isStringLiteral(spec) && outside(spec.text)) {
          const clause = node.importClause;
          if (!clause) report(node, spec.text, '(side effect)');
          if (clause?.name) checkName(clause.name, spec.text);
          const bindings = clause?.namedBindings;
          if (bindings && ts.isNamespaceImport(bindings))
            report(bindings, spec.text, `* as ${bindings.name.text}`);
          else if (bindings) for (const element of bindings.elements) checkName(element.name, spec.text);
        }
      } else if (ts.isImportTypeNode(node)) {
        const arg = node.argument;
        if (ts.isLiteralTypeNode(arg) && ts.isStringLiteral(arg.literal) && outside(arg.literal.text)) {
          report(node, arg.literal.text, node.qualifier ? node.qualifier.getText(source) : 'typeof import');
        }
      } else if (
        ts.isCallExpression(node) &&
        ts.isIdentifier(node.expression) &&
        node.expression.text === 'require' &&
        node.arguments.length === 1 &&
        ts.isStringLiteral(node.arguments[0]) &&
        outside(node.arguments[0].text)
      ) {
        report(node, node.arguments[0].text, 'require');
      }
      ts.forEachChild(node, visit);
    };
    visit(source);
  }
  return violations;
}
