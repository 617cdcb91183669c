// The source of syntaxes/weft.tmLanguage.json.
//
// A TextMate grammar in JSON repeats the same regular expressions (a name, the keyword
// lists, the recovery at the next declaration) dozens of times; here each is written
// once. `node scripts/grammar.mjs` writes the JSON; `--check` fails when the committed
// JSON is stale or when a word list no longer matches the compiler's (built-ins,
// scalar types, keywords), so the grammar cannot silently drift from the language.
//
// The grammar follows grammar/weft.ebnf. Keywords are contextual in Weft (`map` is a
// step in a flow, a built-in in an expression, a field name in a record), so each
// declaration is a region whose body only knows the words that mean something there.

import { readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const BT = "`";

/** A name: a word, or any text but a backtick or newline between backticks. */
const IDENT = String.raw`(?:[A-Za-z_][A-Za-z0-9_]*|${BT}[^${BT}\n]*${BT})`;

/** Words that cannot name a variable (grammar/weft.ebnf, `reserved`). */
export const RESERVED = ["if", "then", "else", "true", "false", "null", "and", "or", "not"];

/** A name that can be a variable: a parameter, a lambda or `where` parameter. */
const NAME = String.raw`(?!(?:${RESERVED.join("|")})\b)${IDENT}`;

/** The declaration keywords. */
export const ITEM_KEYWORDS = [
  "schema",
  "enum",
  "connection",
  "map",
  "flow",
  "environment",
  "test",
  "promotion",
  "rollback",
];

/** The built-in scalar types. */
export const SCALARS = ["Int", "Decimal", "Float", "String", "Bool", "Date", "Timestamp", "Json"];

/** The built-in functions (grammar/README.md section 7). */
export const BUILTINS = [
  "upper", "lower", "trim", "length", "substring", "replace", "contains", "starts_with",
  "ends_with", "split", "join", "pad_left", "concat", "hash", "uuid", "to_string", "to_int",
  "to_decimal", "int_to_decimal", "to_float", "int_to_float", "float_to_decimal",
  "decimal_to_float", "round", "floor", "ceil", "abs", "min", "max",
  "parse_date", "parse_timestamp", "format_date", "today", "now", "add_days", "date_of",
  "days_between", "sum", "count", "map", "filter", "any", "all", "first", "is_empty", "size",
  "coalesce",
];

/** The helpers of an environment binding's `auth:` option. */
const AUTH_HELPERS = ["bearer", "basic", "api_key", "oauth2"];

const STEP_KEYWORDS = ["trigger", "read", "where", "map", "call", "write", "on"];
const ERROR_POLICY = ["on", "error", "retry", "backoff"];
const TRIGGERS = ["every", "cron", "webhook", "manual"];
const TEST_STATEMENTS = ["mock", "expect", "clock"];
const TEST_WORDS = [
  "returns", "fails", "with", "status", "times", "out", "called", "output", "dead_letters",
  "failure", "runs",
];
const GATES = ["require", "tests", "approvals", "from", "no", "self", "approval", "window"];
const ROLLBACK_WORDS = ["error_rate", "over", "min", "runs", "alert"];

/** Every keyword the grammar highlights, for the check against the compiler. */
export const ALL_KEYWORDS = [
  ...ITEM_KEYWORDS, ...RESERVED, ...STEP_KEYWORDS, ...ERROR_POLICY, ...TRIGGERS, "after",
  "then", "as", "from", "in", "secret", "file", "run", "snapshot", "property",
  ...TEST_STATEMENTS, ...TEST_WORDS, ...GATES, "when", ...ROLLBACK_WORDS,
  // Error actions and the rollback action: constants, but keywords to the compiler.
  "dead_letter", "skip", "fail", "previous",
];

const words = (list) => String.raw`\b(?:${list.join("|")})\b`;

/**
 * Ends a region at the next declaration when its closing brace is missing (while the
 * user types): a declaration keyword at the start of a line, not used as a field name
 * (`test: Bool`), and `map` only when it is followed by a name and `(`.
 */
const RECOVER = String.raw`(?=^(?:(?:${ITEM_KEYWORDS.filter((k) => k !== "map").join("|")})\b(?!\s*[:=.])|map\s+${IDENT}\s*\())`;

/** A line that starts a new flow step (so a multi-line `where` expression ends). */
const NEXT_STEP = String.raw`^\s*${words(STEP_KEYWORDS)}(?!\s*[(.=:])`;

/** The target of an assignment in a map body or an environment: `a.b.c`. */
const TARGET = String.raw`${IDENT}(?:\s*\.\s*${IDENT})*`;

/**
 * Ends an argument list or list literal whose closing bracket is missing: at the next
 * declaration, the next flow step, or a line that assigns (`x = `, which no expression
 * contains).
 */
const UNCLOSED = String.raw`${RECOVER}|(?=${NEXT_STEP}|^\s*${TARGET}\s*=(?![=>]))`;

/** A quoted name's backticks, inside a capture that already has the name's scope. */
const QUOTES = { include: "#quoted-name" };

/** A capture holding a name, with its backticks marked. */
const nameCapture = (name) => ({ name, patterns: [QUOTES] });

/** A rule for a name matched by `regex`. */
const named = (regex, name) => ({ match: regex, captures: { 0: nameCapture(name) } });

const block = (patterns, name) => ({
  ...(name ? { name } : {}),
  begin: String.raw`\{`,
  beginCaptures: { 0: { name: "punctuation.section.block.begin.weft" } },
  end: String.raw`\}|${RECOVER}`,
  endCaptures: { 0: { name: "punctuation.section.block.end.weft" } },
  patterns,
});

/**
 * A declaration: its keyword (and name), up to the end of its block, or up to the
 * end of whatever `last` matches (a character class).
 */
const declaration = (keyword, nameScope, patterns, last = String.raw`\}`) => ({
  name: `meta.${keyword}.weft`,
  begin: nameScope
    ? String.raw`\b(${keyword})\b(?:\s+(${IDENT}))?`
    : String.raw`\b(${keyword})\b`,
  beginCaptures: {
    1: { name: `keyword.declaration.${keyword}.weft` },
    ...(nameScope ? { 2: nameCapture(nameScope) } : {}),
  },
  end: String.raw`(?<=${last})|${RECOVER}`,
  patterns,
});

const grammar = {
  $schema: "https://raw.githubusercontent.com/martinring/tmlanguage/master/tmlanguage.json",
  name: "Weft",
  scopeName: "source.weft",
  fileTypes: ["weft"],
  patterns: [
    { include: "#comments" },
    { include: "#schema" },
    { include: "#enum" },
    { include: "#connection" },
    { include: "#map" },
    { include: "#flow" },
    { include: "#environment" },
    { include: "#test" },
    { include: "#promotion" },
    { include: "#rollback" },
  ],
  repository: {
    // ------------------------------------------------------------ lexical
    comments: {
      patterns: [
        {
          name: "comment.line.documentation.weft",
          match: "(///).*$",
          captures: { 1: { name: "punctuation.definition.comment.weft" } },
        },
        {
          name: "comment.line.double-slash.weft",
          match: "(//).*$",
          captures: { 1: { name: "punctuation.definition.comment.weft" } },
        },
      ],
    },
    "quoted-name": {
      match: String.raw`(${BT})[^${BT}\n]*(${BT})`,
      captures: {
        1: { name: "punctuation.definition.quoted-name.begin.weft" },
        2: { name: "punctuation.definition.quoted-name.end.weft" },
      },
    },
    separators: {
      patterns: [
        { match: ",", name: "punctuation.separator.comma.weft" },
        { match: ";", name: "punctuation.terminator.weft" },
      ],
    },
    numbers: {
      patterns: [
        { match: String.raw`\b\d+(?:\.\d+)?%`, name: "constant.numeric.percent.weft" },
        { match: String.raw`\b\d+\.\d+\b`, name: "constant.numeric.decimal.weft" },
        { match: String.raw`\b\d+(?:ms|s|m|h|d)\b`, name: "constant.numeric.duration.weft" },
        { match: String.raw`\b\d+\b`, name: "constant.numeric.integer.weft" },
      ],
    },
    escapes: {
      patterns: [
        {
          match: String.raw`\\(?:["\\ntr$]|u\{[0-9A-Fa-f]+\})`,
          name: "constant.character.escape.weft",
        },
        { match: String.raw`\\.`, name: "invalid.illegal.escape.weft" },
      ],
    },
    // A string where `${` means nothing: paths, cron, names of tests, secrets, groups.
    "string-plain": {
      name: "string.quoted.double.weft",
      begin: '"',
      beginCaptures: { 0: { name: "punctuation.definition.string.begin.weft" } },
      end: '"|$',
      endCaptures: { 0: { name: "punctuation.definition.string.end.weft" } },
      patterns: [{ include: "#escapes" }],
    },
    // An operation's argument: an http or file path with run-time `{placeholders}`.
    "string-path": {
      name: "string.quoted.double.weft",
      begin: '"',
      beginCaptures: { 0: { name: "punctuation.definition.string.begin.weft" } },
      end: '"|$',
      endCaptures: { 0: { name: "punctuation.definition.string.end.weft" } },
      patterns: [
        { include: "#escapes" },
        {
          match: String.raw`(\{)([A-Za-z_][A-Za-z0-9_]*)(\})`,
          name: "constant.other.placeholder.weft",
          captures: {
            1: { name: "punctuation.definition.placeholder.begin.weft" },
            2: { name: "variable.other.placeholder.weft" },
            3: { name: "punctuation.definition.placeholder.end.weft" },
          },
        },
      ],
    },
    // An expression string: `${expr}` interpolations (which hold no string literal).
    "string-interpolated": {
      name: "string.quoted.double.weft",
      begin: '"',
      beginCaptures: { 0: { name: "punctuation.definition.string.begin.weft" } },
      end: '"|$',
      endCaptures: { 0: { name: "punctuation.definition.string.end.weft" } },
      patterns: [
        { include: "#escapes" },
        {
          name: "meta.interpolation.weft",
          contentName: "meta.embedded.line.weft",
          begin: String.raw`\$\{`,
          beginCaptures: { 0: { name: "punctuation.section.interpolation.begin.weft" } },
          end: String.raw`\}|(?=")|$`,
          endCaptures: { 0: { name: "punctuation.section.interpolation.end.weft" } },
          patterns: [{ include: "#expression" }],
        },
      ],
    },

    // ------------------------------------------------------------ types
    type: {
      patterns: [
        { include: "#comments" },
        { include: "#inline-enum" },
        { include: "#record" },
        {
          begin: String.raw`\[`,
          beginCaptures: { 0: { name: "punctuation.section.brackets.begin.weft" } },
          end: String.raw`\]|${RECOVER}`,
          endCaptures: { 0: { name: "punctuation.section.brackets.end.weft" } },
          patterns: [{ include: "#type" }],
        },
        { match: String.raw`\?`, name: "keyword.operator.optional.weft" },
        { match: words(SCALARS), name: "support.type.primitive.weft" },
        named(IDENT, "entity.name.type.weft"),
      ],
    },
    record: block(
      [
        { include: "#comments" },
        {
          match: String.raw`(${IDENT})\s*(:)`,
          captures: {
            1: nameCapture("variable.other.property.declaration.weft"),
            2: { name: "punctuation.separator.type.weft" },
          },
        },
        { include: "#type" },
        { include: "#separators" },
      ],
      "meta.record.weft",
    ),
    variants: block([
      { include: "#comments" },
      { include: "#string-plain" },
      named(IDENT, "variable.other.enummember.weft"),
      { include: "#separators" },
    ]),
    "inline-enum": {
      begin: String.raw`\b(enum)\b`,
      beginCaptures: { 1: { name: "keyword.declaration.enum.weft" } },
      end: String.raw`(?<=\})|${RECOVER}`,
      patterns: [{ include: "#comments" }, { include: "#variants" }],
    },

    // ------------------------------------------------------------ declarations
    schema: declaration("schema", "entity.name.type.schema.weft", [
      { include: "#comments" },
      {
        begin: String.raw`\b(from)\b`,
        beginCaptures: { 1: { name: "keyword.other.from.weft" } },
        end: String.raw`(?<=")|${RECOVER}`,
        patterns: [{ include: "#comments" }, { include: "#string-plain" }],
      },
      { include: "#record" },
    ],
    // `schema X from "file.json"` ends with its string.
    String.raw`[}"]`),
    enum: declaration("enum", "entity.name.type.enum.weft", [
      { include: "#comments" },
      { include: "#variants" },
    ]),
    connection: {
      name: "meta.connection.weft",
      match: String.raw`\b(connection)\b(?:\s+(${IDENT}))?(?:\s*(:)\s*(${IDENT}))?`,
      captures: {
        1: { name: "keyword.declaration.connection.weft" },
        2: nameCapture("entity.name.namespace.connection.weft"),
        3: { name: "punctuation.separator.type.weft" },
        4: nameCapture("support.type.kind.weft"),
      },
    },
    map: declaration("map", "entity.name.function.map.weft", [
      { include: "#comments" },
      {
        name: "meta.parameters.weft",
        begin: String.raw`\(`,
        beginCaptures: { 0: { name: "punctuation.section.parens.begin.weft" } },
        end: String.raw`\)|${RECOVER}`,
        endCaptures: { 0: { name: "punctuation.section.parens.end.weft" } },
        patterns: [
          { include: "#comments" },
          {
            match: String.raw`(${NAME})\s*(:)`,
            captures: {
              1: nameCapture("variable.parameter.weft"),
              2: { name: "punctuation.separator.type.weft" },
            },
          },
          { include: "#type" },
        ],
      },
      // The result type ends at the body's `{`. A `{` followed on its line by
      // `name:` is an inline record type instead (a body assigns with `=`).
      {
        begin: "->",
        beginCaptures: { 0: { name: "keyword.operator.arrow.weft" } },
        end: String.raw`(?=\{(?!\s*${IDENT}\s*:))|${RECOVER}`,
        patterns: [{ include: "#type" }],
      },
      block(
        [
          { include: "#comments" },
          {
            // `Target.sub = expr`; `==`, `=>`, `!=`, `<=` and `>=` are not assignments.
            match: String.raw`(?<![\w.${BT}])(${TARGET})\s*(=)(?![=>])`,
            captures: {
              1: {
                name: "variable.other.property.target.weft",
                patterns: [QUOTES, { match: String.raw`\.`, name: "punctuation.accessor.weft" }],
              },
              2: { name: "keyword.operator.assignment.weft" },
            },
          },
          { include: "#expression" },
          { include: "#separators" },
        ],
        "meta.body.map.weft",
      ),
    ]),
    flow: declaration("flow", "entity.name.function.flow.weft", [
      { include: "#comments" },
      block(
        [
          { include: "#comments" },
          { match: words(["trigger"]), name: "keyword.control.step.weft" },
          { match: words(TRIGGERS), name: "keyword.other.trigger.weft" },
          {
            match: String.raw`\b(after)\b(?:\s+(${IDENT}))?`,
            captures: {
              1: { name: "keyword.other.trigger.weft" },
              2: nameCapture("entity.name.function.flow.weft"),
            },
          },
          {
            name: "meta.where.weft",
            begin: String.raw`\b(where)\b`,
            beginCaptures: { 1: { name: "keyword.control.step.weft" } },
            end: String.raw`(?=[;,}]|${NEXT_STEP})|${RECOVER}`,
            patterns: [{ include: "#expression" }],
          },
          {
            match: String.raw`\b(map)\b(?:\s+(${IDENT}))?`,
            captures: {
              1: { name: "keyword.control.step.weft" },
              2: nameCapture("entity.name.function.map.weft"),
            },
          },
          { match: words(["read", "call", "write"]), name: "keyword.control.step.weft" },
          { include: "#opcall" },
          {
            begin: String.raw`\b(as)\b`,
            beginCaptures: { 1: { name: "keyword.other.as.weft" } },
            end: String.raw`(?=$|[;,}]|//)|(?<=[\w\]?}${BT}])(?=\s+${words(STEP_KEYWORDS)})|${RECOVER}`,
            patterns: [{ include: "#type" }],
          },
          { match: words(ERROR_POLICY), name: "keyword.control.step.weft" },
          {
            match: String.raw`\b(then)\b(?:\s+(${IDENT}))?`,
            captures: {
              1: { name: "keyword.control.step.weft" },
              2: { name: "constant.language.action.weft" },
            },
          },
          { include: "#string-plain" },
          { include: "#numbers" },
          { include: "#separators" },
        ],
        "meta.body.flow.weft",
      ),
    ]),
    environment: declaration("environment", "entity.name.namespace.environment.weft", [
      { include: "#comments" },
      block(
        [
          { include: "#comments" },
          {
            name: "meta.binding.weft",
            begin: String.raw`(${IDENT})\s*(=)\s*(${IDENT})\s*(\()`,
            beginCaptures: {
              1: nameCapture("entity.name.namespace.connection.weft"),
              2: { name: "keyword.operator.assignment.weft" },
              3: nameCapture("support.type.kind.weft"),
              4: { name: "punctuation.section.parens.begin.weft" },
            },
            end: String.raw`\)|${UNCLOSED}`,
            endCaptures: { 0: { name: "punctuation.section.parens.end.weft" } },
            patterns: [{ include: "#binding-arguments" }],
          },
          { include: "#separators" },
        ],
        "meta.body.environment.weft",
      ),
    ]),
    "binding-arguments": {
      patterns: [
        { include: "#comments" },
        {
          match: String.raw`(${IDENT})\s*(:)`,
          captures: {
            1: nameCapture("variable.other.property.option.weft"),
            2: { name: "punctuation.separator.key-value.weft" },
          },
        },
        { match: words(["secret"]), name: "keyword.other.secret.weft" },
        {
          begin: String.raw`(${IDENT})\s*(\()`,
          beginCaptures: {
            1: {
              patterns: [
                { match: words(AUTH_HELPERS), name: "support.function.auth.weft" },
                { match: IDENT, name: "entity.name.function.weft" },
              ],
            },
            2: { name: "punctuation.section.parens.begin.weft" },
          },
          end: String.raw`\)|${UNCLOSED}`,
          endCaptures: { 0: { name: "punctuation.section.parens.end.weft" } },
          patterns: [{ include: "#binding-arguments" }],
        },
        { include: "#constants" },
        { include: "#string-plain" },
        { include: "#numbers" },
        { include: "#separators" },
      ],
    },
    test: declaration("test", null, [
      { include: "#comments" },
      { include: "#string-plain" },
      block(
        [
          { include: "#comments" },
          { match: words(TEST_STATEMENTS), name: "keyword.control.test.weft" },
          {
            match: String.raw`\b(run)\b(?:\s+(${IDENT}))?`,
            captures: {
              1: { name: "keyword.control.test.weft" },
              2: nameCapture("entity.name.function.flow.weft"),
            },
          },
          {
            match: String.raw`\b(snapshot|property)\b(?:\s+(${IDENT}))?`,
            captures: {
              1: { name: "keyword.control.test.weft" },
              2: nameCapture("entity.name.function.map.weft"),
            },
          },
          { match: words(TEST_WORDS), name: "keyword.other.test.weft" },
          { include: "#opcall" },
          { include: "#data" },
        ],
        "meta.body.test.weft",
      ),
    ]),
    // Test data: JSON-like values, or `file "path"`.
    data: {
      patterns: [
        { include: "#comments" },
        { match: words(["file"]), name: "keyword.other.file.weft" },
        block(
          [
            { include: "#comments" },
            {
              match: String.raw`(${IDENT})\s*(:)`,
              captures: {
                1: nameCapture("variable.other.property.key.weft"),
                2: { name: "punctuation.separator.key-value.weft" },
              },
            },
            {
              match: String.raw`("(?:[^"\\\n]|\\.)*")\s*(:)`,
              captures: {
                1: { name: "variable.other.property.key.weft", patterns: [{ include: "#string-plain" }] },
                2: { name: "punctuation.separator.key-value.weft" },
              },
            },
            { include: "#data" },
          ],
          "meta.object.weft",
        ),
        {
          begin: String.raw`\[`,
          beginCaptures: { 0: { name: "punctuation.section.brackets.begin.weft" } },
          end: String.raw`\]|${RECOVER}`,
          endCaptures: { 0: { name: "punctuation.section.brackets.end.weft" } },
          patterns: [{ include: "#data" }],
        },
        { include: "#constants" },
        { match: "-", name: "keyword.operator.arithmetic.weft" },
        { include: "#numbers" },
        { include: "#string-plain" },
        { include: "#separators" },
      ],
    },
    promotion: declaration("promotion", null, [
      { include: "#comments" },
      block(
        [
          { include: "#comments" },
          {
            match: String.raw`(${IDENT})\s*(:)`,
            captures: {
              1: nameCapture("entity.name.namespace.environment.weft"),
              2: { name: "punctuation.separator.key-value.weft" },
            },
          },
          { match: words(GATES), name: "keyword.other.gate.weft" },
          { match: "->", name: "keyword.operator.arrow.weft" },
          named(IDENT, "entity.name.namespace.environment.weft"),
          { include: "#numbers" },
          { include: "#string-plain" },
          { include: "#separators" },
        ],
        "meta.body.promotion.weft",
      ),
    ]),
    rollback: {
      name: "meta.rollback.weft",
      begin: String.raw`\b(rollback)\b(?:\s+(${IDENT}))?(?:\s+(in)\b(?:\s+(${IDENT}))?)?`,
      beginCaptures: {
        1: { name: "keyword.declaration.rollback.weft" },
        2: nameCapture("entity.name.function.flow.weft"),
        3: { name: "keyword.other.in.weft" },
        4: nameCapture("entity.name.namespace.environment.weft"),
      },
      end: String.raw`(?<=\})|${RECOVER}`,
      patterns: [
        { include: "#comments" },
        block(
          [
            { include: "#comments" },
            { match: words(["when"]), name: "keyword.control.rollback.weft" },
            {
              match: String.raw`\b(then)\b(?:\s+(${IDENT}))?`,
              captures: {
                1: { name: "keyword.control.rollback.weft" },
                2: { name: "constant.language.action.weft" },
              },
            },
            { match: words(ROLLBACK_WORDS), name: "keyword.other.rollback.weft" },
            { match: words(["previous"]), name: "constant.language.action.weft" },
            { include: "#operators" },
            { include: "#numbers" },
            { include: "#string-plain" },
            { include: "#separators" },
          ],
          "meta.body.rollback.weft",
        ),
      ],
    },

    // ------------------------------------------------------------ expressions
    // `connection.operation(arguments)`, in flows and tests.
    opcall: {
      name: "meta.operation.weft",
      begin: String.raw`(${IDENT})\s*(\.)\s*(${IDENT})\s*(\()`,
      beginCaptures: {
        1: nameCapture("entity.name.namespace.connection.weft"),
        2: { name: "punctuation.accessor.weft" },
        3: nameCapture("entity.name.function.member.operation.weft"),
        4: { name: "punctuation.section.parens.begin.weft" },
      },
      end: String.raw`\)|${UNCLOSED}`,
      endCaptures: { 0: { name: "punctuation.section.parens.end.weft" } },
      patterns: [{ include: "#string-path" }, { include: "#expression" }],
    },
    constants: {
      patterns: [
        { match: words(["null"]), name: "constant.language.null.weft" },
        { match: words(["true", "false"]), name: "constant.language.boolean.weft" },
      ],
    },
    operators: {
      patterns: [
        { match: "=>", name: "keyword.operator.arrow.lambda.weft" },
        { match: "->", name: "keyword.operator.arrow.weft" },
        { match: String.raw`\?\?`, name: "keyword.operator.null-coalescing.weft" },
        { match: "==|!=|<=|>=|<|>", name: "keyword.operator.comparison.weft" },
        { match: String.raw`[-+*/%]`, name: "keyword.operator.arithmetic.weft" },
        { match: "=", name: "keyword.operator.assignment.weft" },
      ],
    },
    expression: {
      patterns: [
        { include: "#comments" },
        { include: "#string-interpolated" },
        { include: "#numbers" },
        {
          match: String.raw`(${NAME})\s*(=>)`,
          captures: {
            1: nameCapture("variable.parameter.weft"),
            2: { name: "keyword.operator.arrow.lambda.weft" },
          },
        },
        { match: words(["if", "then", "else"]), name: "keyword.control.conditional.weft" },
        { match: words(["and", "or", "not"]), name: "keyword.operator.logical.weft" },
        { include: "#constants" },
        {
          match: String.raw`(\.)\s*(${IDENT})`,
          captures: {
            1: { name: "punctuation.accessor.weft" },
            2: nameCapture("variable.other.property.weft"),
          },
        },
        {
          match: String.raw`${words(BUILTINS)}(?=\s*\()`,
          name: "support.function.builtin.weft",
        },
        // Any other call applies a map.
        named(String.raw`${IDENT}(?=\s*\()`, "entity.name.function.map.weft"),
        named(NAME, "variable.parameter.weft"),
        { include: "#operators" },
        {
          begin: String.raw`\(`,
          beginCaptures: { 0: { name: "punctuation.section.parens.begin.weft" } },
          end: String.raw`\)|${UNCLOSED}`,
          endCaptures: { 0: { name: "punctuation.section.parens.end.weft" } },
          patterns: [{ include: "#expression" }],
        },
        {
          begin: String.raw`\[`,
          beginCaptures: { 0: { name: "punctuation.section.brackets.begin.weft" } },
          end: String.raw`\]|${UNCLOSED}`,
          endCaptures: { 0: { name: "punctuation.section.brackets.end.weft" } },
          patterns: [{ include: "#expression" }],
        },
        { include: "#separators" },
      ],
    },
  },
};

const here = dirname(fileURLToPath(import.meta.url));
const output = join(here, "..", "syntaxes", "weft.tmLanguage.json");
const rendered = `${JSON.stringify(grammar, null, 2)}\n`;

/** Words the compiler defines in `file` through the string literals of `list`. */
function compilerWords(file, list) {
  const source = readFileSync(join(here, "..", "..", "..", file), "utf8");
  const start = source.indexOf(list);
  if (start < 0) {
    throw new Error(`${list} not found in ${file}: update scripts/grammar.mjs`);
  }
  const end = source.indexOf("];", start);
  const body = source.slice(start, end);
  const names = list.startsWith("pub const BUILTINS")
    ? [...body.matchAll(/(?:fixed|generic|lambda\w*)\("([a-z_]+)"|name: "([a-z_]+)"/g)].map((m) => m[1] ?? m[2])
    : [...body.matchAll(/"([A-Za-z_]+)"/g)].map((m) => m[1]);
  return new Set(names);
}

/** Problems found comparing the grammar's word lists with the compiler's. */
function driftFromCompiler() {
  const problems = [];
  const compare = (what, ours, theirs) => {
    const missing = [...theirs].filter((w) => !ours.has(w));
    const extra = what === "keywords" ? [] : [...ours].filter((w) => !theirs.has(w));
    if (missing.length > 0) problems.push(`${what} the grammar lacks: ${missing.join(", ")}`);
    if (extra.length > 0) problems.push(`${what} the compiler no longer has: ${extra.join(", ")}`);
  };
  compare("built-ins", new Set(BUILTINS), compilerWords("compiler/src/builtins.rs", "pub const BUILTINS"));
  compare("scalar types", new Set(SCALARS), compilerWords("compiler/src/resolve.rs", "pub const SCALARS"));
  const keywords = new Set([
    ...compilerWords("compiler/src/parse/grammar.rs", "pub const RESERVED"),
    ...compilerWords("compiler/src/parse/grammar.rs", "pub const ITEM_KEYWORDS"),
    ...compilerWords("lsp/src/semantic_tokens.rs", "pub const KEYWORDS"),
  ]);
  compare("keywords", new Set(ALL_KEYWORDS), keywords);
  return problems;
}

if (process.argv.includes("--check")) {
  const problems = driftFromCompiler();
  let committed = "";
  try {
    committed = readFileSync(output, "utf8");
  } catch {
    committed = "";
  }
  if (committed !== rendered) {
    problems.push("syntaxes/weft.tmLanguage.json is stale: run `npm run grammar` and commit it");
  }
  if (problems.length > 0) {
    for (const problem of problems) console.error(`grammar: ${problem}`);
    process.exit(1);
  }
  console.log("grammar: syntaxes/weft.tmLanguage.json is up to date and matches the compiler");
} else {
  writeFileSync(output, rendered);
  console.log(`grammar: wrote ${output}`);
}
