using System.Globalization;
using System.Text;
using System.Text.Unicode;

namespace Duckton.Core.Toml;

/// <summary>
/// A TOML 1.0.0 parser (https://toml.io/en/v1.0.0): strict — everything the specification calls
/// invalid is rejected with a <see cref="TomlException"/> that says where and what is wrong.
/// </summary>
/// <remarks>
/// Hand-written recursive descent over the decoded text. No reflection, no regular expressions:
/// NativeAOT and trimming safe. Nesting of arrays and inline tables is capped at
/// <see cref="MaxNesting"/> so a hostile file cannot overflow the stack.
/// </remarks>
internal static class TomlParser
{
    /// <summary>Deepest nesting of arrays and inline tables accepted.</summary>
    public const int MaxNesting = 128;

    /// <summary>Parses TOML text. A leading byte-order mark (U+FEFF) is ignored.</summary>
    public static TomlTable Parse(string text, string? sourceName = null)
    {
        ArgumentNullException.ThrowIfNull(text);
        var skipBom = text.Length > 0 && text[0] == '\uFEFF';
        return new Parser(text, sourceName, skipBom ? 1 : 0).ParseDocument();
    }

    /// <summary>Parses UTF-8 encoded TOML; invalid UTF-8 is an error (TOML documents must be valid UTF-8).</summary>
    public static TomlTable Parse(ReadOnlySpan<byte> utf8, string? sourceName = null)
    {
        if (utf8.StartsWith("\uFEFF"u8))
        {
            utf8 = utf8[3..];
        }
        if (!Utf8.IsValid(utf8))
        {
            throw InvalidUtf8(utf8, sourceName);
        }
        return new Parser(Encoding.UTF8.GetString(utf8), sourceName, 0).ParseDocument();
    }

    /// <summary>Reads and parses a TOML file; errors name the file.</summary>
    public static TomlTable ParseFile(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        return Parse(File.ReadAllBytes(path), path);
    }

    private static TomlException InvalidUtf8(ReadOnlySpan<byte> utf8, string? sourceName)
    {
        int line = 1, column = 1, index = 0;
        while (index < utf8.Length)
        {
            var status = Rune.DecodeFromUtf8(utf8[index..], out var rune, out var consumed);
            if (status != System.Buffers.OperationStatus.Done)
            {
                break;
            }
            if (rune.Value == '\n')
            {
                line++;
                column = 1;
            }
            else
            {
                column++;
            }
            index += consumed;
        }
        var shown = index < utf8.Length ? $"0x{utf8[index]:X2}" : "end of input";
        return new TomlException(sourceName, new TomlPosition(line, column),
            $"invalid UTF-8 (byte {shown} at offset {index}); TOML files must be UTF-8 encoded");
    }

    private readonly record struct KeyPart(string Name, int Start);

    private sealed class Parser
    {
        private readonly string _s;
        private readonly string? _source;
        private readonly List<int> _lineStarts = [0];
        private readonly TomlTable _root = new() { Origin = TableOrigin.Header };
        private TomlTable _current;
        private int _pos;
        private int _depth;

        public Parser(string text, string? source, int start)
        {
            _s = text;
            _source = source;
            _pos = start;
            _current = _root;
            for (var i = 0; i < text.Length; i++)
            {
                var c = text[i];
                if (c == '\n')
                {
                    _lineStarts.Add(i + 1);
                }
                else if (char.IsSurrogate(c))
                {
                    // .NET strings may hold lone surrogates; they are not Unicode scalar values, so not UTF-8.
                    if (char.IsHighSurrogate(c) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]))
                    {
                        i++;
                    }
                    else
                    {
                        throw Fail(i, $"lone surrogate U+{(int)c:X4} is not a Unicode scalar value");
                    }
                }
            }
        }

        private bool AtEnd => _pos >= _s.Length;
        private char Peek => _pos < _s.Length ? _s[_pos] : '\0';
        private char PeekAt(int offset) => _pos + offset < _s.Length ? _s[_pos + offset] : '\0';

        public TomlTable ParseDocument()
        {
            while (true)
            {
                SkipWhitespace();
                if (AtEnd)
                {
                    break;
                }
                var c = Peek;
                if (c == '[')
                {
                    ParseHeader();
                }
                else if (c != '#' && c != '\n' && c != '\r')
                {
                    ParseKeyValue(_current);
                }
                ExpectLineEnd();
            }
            return _root;
        }

        // ---- positions and errors ----

        private TomlPosition PositionOf(int index)
        {
            var line = _lineStarts.BinarySearch(index);
            if (line < 0)
            {
                line = ~line - 1;
            }
            var column = 1;
            for (var i = _lineStarts[line]; i < index && i < _s.Length; i++)
            {
                if (!char.IsLowSurrogate(_s[i]))
                {
                    column++;
                }
            }
            return new TomlPosition(line + 1, column);
        }

        private TomlException Fail(int index, string problem) => new(_source, PositionOf(index), problem);

        private TomlException Fail(string problem) => Fail(_pos, problem);

        private string Found(int index)
        {
            if (index >= _s.Length) return "end of file";
            var c = _s[index];
            return c switch
            {
                '\n' => "a line break",
                '\r' => "a carriage return",
                '\t' => "a tab",
                ' ' => "a space",
                _ when c < 0x20 || c == 0x7F || c == '\uFEFF' || (c > 0x7F && char.IsWhiteSpace(c)) => $"U+{(int)c:X4}",
                _ when char.IsHighSurrogate(c) && index + 1 < _s.Length => $"'{_s.Substring(index, 2)}'",
                _ => $"'{c}'",
            };
        }

        private static bool IsControl(char c) => c < 0x20 || c == 0x7F;

        private static string Article(TomlValue value)
        {
            var name = value is TomlArray { IsArrayOfTables: true } ? "array of tables" : value.KindName;
            return (name[0] is 'a' or 'e' or 'i' or 'o' ? "an " : "a ") + name;
        }

        private static string JoinKey(List<KeyPart> parts, int count)
        {
            var sb = new StringBuilder();
            for (var i = 0; i < count; i++)
            {
                if (i > 0) sb.Append('.');
                sb.Append(QuoteKeyIfNeeded(parts[i].Name));
            }
            return sb.ToString();
        }

        internal static string QuoteKeyIfNeeded(string key) => TomlWriter.FormatKey(key);

        // ---- whitespace, comments, line ends ----

        private void SkipWhitespace()
        {
            while (_pos < _s.Length && (_s[_pos] == ' ' || _s[_pos] == '\t'))
            {
                _pos++;
            }
        }

        /// <summary>At '#': consumes the comment up to (not including) the line end.</summary>
        private void SkipComment()
        {
            _pos++;
            while (_pos < _s.Length)
            {
                var c = _s[_pos];
                if (c == '\n' || (c == '\r' && PeekAt(1) == '\n'))
                {
                    return;
                }
                if (c != '\t' && IsControl(c))
                {
                    throw Fail(c == '\r'
                        ? "a carriage return in a comment must be followed by a line feed"
                        : $"control character {Found(_pos)} is not allowed in a comment");
                }
                _pos++;
            }
        }

        private bool TryConsumeNewline()
        {
            if (Peek == '\n')
            {
                _pos++;
                return true;
            }
            if (Peek == '\r')
            {
                if (PeekAt(1) != '\n')
                {
                    throw Fail("a carriage return must be followed by a line feed (bare CR is not a TOML newline)");
                }
                _pos += 2;
                return true;
            }
            return false;
        }

        private void ExpectLineEnd()
        {
            SkipWhitespace();
            if (Peek == '#')
            {
                SkipComment();
            }
            if (AtEnd || TryConsumeNewline())
            {
                return;
            }
            throw Fail($"expected the end of the line, found {Found(_pos)} (each key/value pair and table header needs its own line)");
        }

        private void SkipBlankSpace()
        {
            while (true)
            {
                SkipWhitespace();
                if (Peek == '#')
                {
                    SkipComment();
                }
                if (!TryConsumeNewline())
                {
                    return;
                }
            }
        }

        // ---- keys ----

        private static bool IsBareKeyChar(char c) =>
            c is (>= 'A' and <= 'Z') or (>= 'a' and <= 'z') or (>= '0' and <= '9') or '_' or '-';

        private List<KeyPart> ParseKey()
        {
            var parts = new List<KeyPart>(2);
            while (true)
            {
                SkipWhitespace();
                var start = _pos;
                parts.Add(new KeyPart(ParseSimpleKey(), start));
                SkipWhitespace();
                if (Peek != '.')
                {
                    return parts;
                }
                _pos++;
            }
        }

        private string ParseSimpleKey()
        {
            var c = Peek;
            if (c == '"' || c == '\'')
            {
                if (PeekAt(1) == c && PeekAt(2) == c)
                {
                    throw Fail("a key cannot be a multi-line string");
                }
                return c == '"' ? ParseBasicString() : ParseLiteralString();
            }
            var start = _pos;
            while (_pos < _s.Length && IsBareKeyChar(_s[_pos]))
            {
                _pos++;
            }
            if (_pos == start)
            {
                throw Fail(AtEnd || c is '\n' or '\r'
                    ? "expected a key, found " + Found(_pos)
                    : $"expected a key, found {Found(_pos)} (bare keys may only contain A-Z a-z 0-9 _ -; quote other keys)");
            }
            return _s[start.._pos];
        }

        // ---- tables ----

        private void ParseHeader()
        {
            var headerStart = _pos;
            var arrayOfTables = PeekAt(1) == '[';
            _pos += arrayOfTables ? 2 : 1;
            var key = ParseKey();
            SkipWhitespace();
            if (Peek != ']')
            {
                throw Fail($"expected ']' to close the table header, found {Found(_pos)}");
            }
            _pos++;
            if (arrayOfTables)
            {
                if (Peek != ']')
                {
                    throw Fail($"expected ']]' to close the array-of-tables header, found {Found(_pos)}");
                }
                _pos++;
            }

            var table = _root;
            for (var i = 0; i < key.Count - 1; i++)
            {
                table = DescendForHeader(table, key, i);
            }

            var last = key[^1];
            var path = JoinKey(key, key.Count);
            table.TryGetValue(last.Name, out var existing);
            if (arrayOfTables)
            {
                TomlArray array;
                if (existing is null)
                {
                    array = new TomlArray { IsArrayOfTables = true, Position = PositionOf(headerStart) };
                    table.Set(last.Name, array);
                }
                else if (existing is TomlArray { IsArrayOfTables: true } aot)
                {
                    array = aot;
                }
                else
                {
                    throw Fail(last.Start, existing is TomlTable
                        ? $"[[{path}]] cannot append to '{path}': it is already a table (defined at {existing.Position})"
                        : $"[[{path}]] cannot append to '{path}': it is already {Article(existing)} (defined at {existing.Position}), not an array of tables");
                }
                var element = new TomlTable { Origin = TableOrigin.Header, Position = PositionOf(headerStart) };
                array.Add(element);
                _current = element;
                return;
            }

            switch (existing)
            {
                case null:
                    var created = new TomlTable { Origin = TableOrigin.Header, Position = PositionOf(headerStart) };
                    table.Set(last.Name, created);
                    _current = created;
                    return;
                case TomlTable { Sealed: false, Origin: TableOrigin.Implicit } implicitTable:
                    implicitTable.Origin = TableOrigin.Header;
                    implicitTable.Position = PositionOf(headerStart);
                    _current = implicitTable;
                    return;
                case TomlTable { Sealed: true } or TomlTable { Origin: TableOrigin.Inline }:
                    throw Fail(last.Start, $"table [{path}] cannot be opened: it is an inline table (defined at {existing.Position}) and inline tables are complete once closed");
                case TomlTable { Origin: TableOrigin.Dotted }:
                    throw Fail(last.Start, $"table [{path}] is already defined by dotted keys at {existing.Position}; a [header] cannot define it again");
                case TomlTable:
                    throw Fail(last.Start, $"table [{path}] is defined more than once (first at {existing.Position})");
                case TomlArray { IsArrayOfTables: true }:
                    throw Fail(last.Start, $"'{path}' is an array of tables (defined at {existing.Position}); use [[{path}]] to add an element");
                default:
                    throw Fail(last.Start, $"'{path}' is already {Article(existing)} (defined at {existing.Position}); it cannot also be a table");
            }
        }

        private TomlTable DescendForHeader(TomlTable table, List<KeyPart> key, int index)
        {
            var part = key[index];
            if (!table.TryGetValue(part.Name, out var existing))
            {
                var created = new TomlTable { Origin = TableOrigin.Implicit, Position = PositionOf(part.Start) };
                table.Set(part.Name, created);
                return created;
            }
            var path = JoinKey(key, index + 1);
            return existing switch
            {
                TomlTable { Sealed: true } or TomlTable { Origin: TableOrigin.Inline } =>
                    throw Fail(part.Start, $"cannot add tables to '{path}': it is an inline table (defined at {existing.Position}) and inline tables are complete once closed"),
                TomlTable t => t,
                TomlArray { IsArrayOfTables: true } aot => (TomlTable)aot[^1],
                _ => throw Fail(part.Start, $"'{path}' is already {Article(existing)} (defined at {existing.Position}); it cannot also be a table"),
            };
        }

        // ---- key/value pairs ----

        private void ParseKeyValue(TomlTable target)
        {
            var key = ParseKey();
            SkipWhitespace();
            if (Peek != '=')
            {
                throw Fail($"expected '=' after the key '{JoinKey(key, key.Count)}', found {Found(_pos)}");
            }
            _pos++;
            SkipWhitespace();
            var value = ParseValue();
            Insert(target, key, value);
        }

        private void Insert(TomlTable target, List<KeyPart> key, TomlValue value)
        {
            var table = target;
            for (var i = 0; i < key.Count - 1; i++)
            {
                var part = key[i];
                if (!table.TryGetValue(part.Name, out var existing))
                {
                    var created = new TomlTable { Origin = TableOrigin.Dotted, Position = PositionOf(part.Start) };
                    table.Set(part.Name, created);
                    table = created;
                    continue;
                }
                var path = JoinKey(key, i + 1);
                switch (existing)
                {
                    case TomlTable { Sealed: true } or TomlTable { Origin: TableOrigin.Inline }:
                        throw Fail(part.Start, $"cannot add keys to '{path}': it is an inline table (defined at {existing.Position}) and inline tables are complete once closed");
                    case TomlTable { Origin: TableOrigin.Header }:
                        throw Fail(part.Start, $"cannot add keys to table [{path}] with dotted keys: it was defined by a [header] at {existing.Position}");
                    case TomlTable t:
                        // Dotted keys may extend tables that dotted keys created; an implicit
                        // (header-parent) table becomes dotted-defined once extended this way.
                        t.Origin = TableOrigin.Dotted;
                        table = t;
                        break;
                    default:
                        throw Fail(part.Start, $"'{path}' is already {Article(existing)} (defined at {existing.Position}); it cannot also be a table");
                }
            }
            var last = key[^1];
            if (table.TryGetValue(last.Name, out var duplicate))
            {
                throw Fail(last.Start, $"duplicate key '{JoinKey(key, key.Count)}' (first defined at {duplicate.Position})");
            }
            value.Position = PositionOf(key[0].Start);
            table.Set(last.Name, value);
        }

        // ---- values ----

        private TomlValue ParseValue()
        {
            var start = _pos;
            TomlValue value = Peek switch
            {
                '"' => new TomlString(PeekAt(1) == '"' && PeekAt(2) == '"' ? ParseMultilineBasicString() : ParseBasicString()),
                '\'' => new TomlString(PeekAt(1) == '\'' && PeekAt(2) == '\'' ? ParseMultilineLiteralString() : ParseLiteralString()),
                '[' => ParseArray(),
                '{' => ParseInlineTable(),
                _ => ParseBareValue(),
            };
            value.Position = PositionOf(start);
            return value;
        }

        private void Enter()
        {
            if (++_depth > MaxNesting)
            {
                throw Fail($"arrays and inline tables are nested more than {MaxNesting} deep");
            }
        }

        private TomlArray ParseArray()
        {
            var open = _pos;
            Enter();
            _pos++;
            var array = new TomlArray();
            while (true)
            {
                SkipBlankSpace();
                if (Peek == ']')
                {
                    _pos++;
                    break;
                }
                if (AtEnd)
                {
                    throw Fail(open, "array is not closed (missing ']')");
                }
                array.Add(ParseValue());
                SkipBlankSpace();
                if (Peek == ',')
                {
                    _pos++;
                    continue;
                }
                if (Peek == ']')
                {
                    _pos++;
                    break;
                }
                throw AtEnd
                    ? Fail(open, "array is not closed (missing ']')")
                    : Fail($"expected ',' or ']' after an array element, found {Found(_pos)}");
            }
            _depth--;
            return array;
        }

        private TomlTable ParseInlineTable()
        {
            var open = _pos;
            Enter();
            _pos++;
            var table = new TomlTable { Origin = TableOrigin.Inline, IsInline = true };
            SkipWhitespace();
            if (Peek == '}')
            {
                _pos++;
            }
            else
            {
                while (true)
                {
                    SkipWhitespace();
                    if (Peek is '\n' or '\r')
                    {
                        throw Fail("inline tables must stay on one line in TOML 1.0 (found a line break)");
                    }
                    ParseKeyValue(table);
                    SkipWhitespace();
                    if (Peek == ',')
                    {
                        _pos++;
                        SkipWhitespace();
                        if (Peek == '}')
                        {
                            throw Fail("a trailing comma is not allowed in an inline table");
                        }
                        continue;
                    }
                    if (Peek == '}')
                    {
                        _pos++;
                        break;
                    }
                    if (AtEnd)
                    {
                        throw Fail(open, "inline table is not closed (missing '}')");
                    }
                    throw Peek is '\n' or '\r'
                        ? Fail("inline tables must stay on one line in TOML 1.0 (found a line break)")
                        : Fail($"expected ',' or '}}' in an inline table, found {Found(_pos)}");
                }
            }
            Seal(table);
            _depth--;
            return table;
        }

        /// <summary>Marks an inline table and everything in it as complete: nothing may be added later.</summary>
        private static void Seal(TomlValue value)
        {
            if (value is TomlTable table)
            {
                table.Sealed = true;
                foreach (var item in table)
                {
                    Seal(item.Value);
                }
            }
            else if (value is TomlArray array)
            {
                foreach (var item in array)
                {
                    Seal(item);
                }
            }
        }

        // ---- strings ----

        private string ParseBasicString()
        {
            var open = _pos;
            _pos++;
            var sb = new StringBuilder();
            while (true)
            {
                if (AtEnd)
                {
                    throw Fail(open, "string is not closed (missing '\"')");
                }
                var c = _s[_pos];
                switch (c)
                {
                    case '"':
                        _pos++;
                        return sb.ToString();
                    case '\\':
                        ParseEscape(sb);
                        break;
                    case '\n' or '\r':
                        throw Fail("a single-line string cannot contain a line break (use \"\"\" for a multi-line string)");
                    case '\t':
                        sb.Append(c);
                        _pos++;
                        break;
                    default:
                        if (IsControl(c))
                        {
                            throw Fail($"control character {Found(_pos)} must be escaped in a string");
                        }
                        sb.Append(c);
                        _pos++;
                        break;
                }
            }
        }

        private string ParseMultilineBasicString()
        {
            var open = _pos;
            _pos += 3;
            TryConsumeNewline(); // a newline right after the opening delimiter is trimmed
            var sb = new StringBuilder();
            while (true)
            {
                if (AtEnd)
                {
                    throw Fail(open, "multi-line string is not closed (missing '\"\"\"')");
                }
                var c = _s[_pos];
                if (c == '"')
                {
                    if (ConsumeClosingQuotes('"', sb))
                    {
                        return sb.ToString();
                    }
                    continue;
                }
                if (c == '\\')
                {
                    if (IsLineEndingBackslash())
                    {
                        continue;
                    }
                    ParseEscape(sb);
                    continue;
                }
                AppendMultilineChar(sb, "multi-line string");
            }
        }

        /// <summary>
        /// At a backslash in a multi-line basic string: if only whitespace follows it up to the line end,
        /// skips it and all whitespace and newlines after it, and returns true.
        /// </summary>
        private bool IsLineEndingBackslash()
        {
            var i = _pos + 1;
            while (i < _s.Length && (_s[i] == ' ' || _s[i] == '\t'))
            {
                i++;
            }
            if (i >= _s.Length || (_s[i] != '\n' && _s[i] != '\r'))
            {
                if (i > _pos + 1)
                {
                    throw Fail("a backslash followed by whitespace must end the line (line-ending backslash)");
                }
                return false;
            }
            _pos = i;
            while (true)
            {
                SkipWhitespace();
                if (!TryConsumeNewline())
                {
                    return true;
                }
            }
        }

        /// <summary>
        /// At a quote inside a multi-line string: up to two quotes may precede the closing three.
        /// Returns true when the string ended.
        /// </summary>
        private bool ConsumeClosingQuotes(char quote, StringBuilder sb)
        {
            var run = 0;
            while (_pos + run < _s.Length && _s[_pos + run] == quote)
            {
                run++;
            }
            if (run < 3)
            {
                sb.Append(quote, run);
                _pos += run;
                return false;
            }
            if (run > 5)
            {
                throw Fail(_pos + 5, $"too many {quote} characters: at most two may come right before the closing delimiter");
            }
            sb.Append(quote, run - 3);
            _pos += run;
            return true;
        }

        private void AppendMultilineChar(StringBuilder sb, string what)
        {
            var c = _s[_pos];
            if (c == '\r')
            {
                if (PeekAt(1) != '\n')
                {
                    throw Fail($"a carriage return in a {what} must be followed by a line feed");
                }
                sb.Append("\r\n");
                _pos += 2;
                return;
            }
            if (c != '\n' && c != '\t' && IsControl(c))
            {
                throw Fail($"control character {Found(_pos)} is not allowed in a {what}");
            }
            sb.Append(c);
            _pos++;
        }

        private void ParseEscape(StringBuilder sb)
        {
            var at = _pos;
            _pos++;
            if (AtEnd)
            {
                throw Fail(at, "string ends inside an escape sequence");
            }
            var c = _s[_pos++];
            switch (c)
            {
                case 'b': sb.Append('\b'); return;
                case 't': sb.Append('\t'); return;
                case 'n': sb.Append('\n'); return;
                case 'f': sb.Append('\f'); return;
                case 'r': sb.Append('\r'); return;
                case '"': sb.Append('"'); return;
                case '\\': sb.Append('\\'); return;
                case 'u': AppendCodePoint(sb, at, 4); return;
                case 'U': AppendCodePoint(sb, at, 8); return;
                default:
                    _pos--;
                    throw Fail(at, $"invalid escape sequence '\\{(IsControl(c) || c == ' ' ? Found(_pos) : c.ToString())}' " +
                        "(valid: \\b \\t \\n \\f \\r \\\" \\\\ \\uXXXX \\UXXXXXXXX)");
            }
        }

        private void AppendCodePoint(StringBuilder sb, int escapeStart, int digits)
        {
            var value = 0;
            for (var i = 0; i < digits; i++)
            {
                var d = _pos < _s.Length ? HexDigit(_s[_pos]) : -1;
                if (d < 0)
                {
                    throw Fail(escapeStart, $"\\{(digits == 4 ? 'u' : 'U')} must be followed by exactly {digits} hexadecimal digits");
                }
                value = (value << 4) | d;
                _pos++;
            }
            if (!Rune.IsValid(value))
            {
                throw Fail(escapeStart, $"escape \\{(digits == 4 ? 'u' : 'U')}{_s.Substring(_pos - digits, digits)} is not a Unicode scalar value (surrogates and values above 10FFFF are not allowed)");
            }
            sb.Append(new Rune(value).ToString());
        }

        private static int HexDigit(char c) => c switch
        {
            >= '0' and <= '9' => c - '0',
            >= 'a' and <= 'f' => c - 'a' + 10,
            >= 'A' and <= 'F' => c - 'A' + 10,
            _ => -1,
        };

        private string ParseLiteralString()
        {
            var open = _pos;
            _pos++;
            var start = _pos;
            while (true)
            {
                if (AtEnd)
                {
                    throw Fail(open, "literal string is not closed (missing \"'\")");
                }
                var c = _s[_pos];
                if (c == '\'')
                {
                    var text = _s[start.._pos];
                    _pos++;
                    return text;
                }
                if (c is '\n' or '\r')
                {
                    throw Fail("a single-line literal string cannot contain a line break (use ''' for a multi-line string)");
                }
                if (c != '\t' && IsControl(c))
                {
                    throw Fail($"control character {Found(_pos)} is not allowed in a literal string");
                }
                _pos++;
            }
        }

        private string ParseMultilineLiteralString()
        {
            var open = _pos;
            _pos += 3;
            TryConsumeNewline();
            var sb = new StringBuilder();
            while (true)
            {
                if (AtEnd)
                {
                    throw Fail(open, "multi-line literal string is not closed (missing \"'''\")");
                }
                if (_s[_pos] == '\'')
                {
                    if (ConsumeClosingQuotes('\'', sb))
                    {
                        return sb.ToString();
                    }
                    continue;
                }
                AppendMultilineChar(sb, "multi-line literal string");
            }
        }

        // ---- booleans, numbers, dates and times ----

        private static bool IsTokenChar(char c) =>
            c is (>= 'A' and <= 'Z') or (>= 'a' and <= 'z') or (>= '0' and <= '9') or '_' or '+' or '-' or '.' or ':';

        private static bool IsDigit(char c) => c is >= '0' and <= '9';

        private TomlValue ParseBareValue()
        {
            var start = _pos;
            while (_pos < _s.Length && IsTokenChar(_s[_pos]))
            {
                _pos++;
            }
            // RFC 3339 lets a space separate date and time: "1979-05-27 07:32:00".
            if (_pos - start == 10 && LooksLikeDate(_s, start) && Peek == ' '
                && IsDigit(PeekAt(1)) && IsDigit(PeekAt(2)) && PeekAt(3) == ':')
            {
                _pos++;
                while (_pos < _s.Length && IsTokenChar(_s[_pos]))
                {
                    _pos++;
                }
            }
            if (_pos == start)
            {
                throw Fail(AtEnd || Peek is '\n' or '\r' or '#'
                    ? $"expected a value, found {Found(_pos)} (a value must follow '=' on the same line)"
                    : $"expected a value, found {Found(_pos)}");
            }
            var token = _s[start.._pos];
            switch (token)
            {
                case "true": return new TomlBoolean(true);
                case "false": return new TomlBoolean(false);
            }
            if (LooksLikeDate(token, 0))
            {
                return ParseDateTime(token, start);
            }
            if (token.Length >= 3 && IsDigit(token[0]) && IsDigit(token[1]) && token[2] == ':')
            {
                var end = ParseTime(token, 0, start, out var h, out var m, out var sec, out var ns);
                if (end != token.Length)
                {
                    throw Fail(start + end, $"unexpected {Found(start + end)} after the local time '{token[..end]}'");
                }
                return TomlDateTime.Unchecked(TomlValueKind.LocalTime, 0, 1, 1, h, m, sec, ns, null);
            }
            return ParseNumber(token, start);
        }

        private static bool LooksLikeDate(string s, int at) =>
            s.Length - at >= 10 && IsDigit(s[at]) && IsDigit(s[at + 1]) && IsDigit(s[at + 2]) && IsDigit(s[at + 3])
            && s[at + 4] == '-';

        private TomlValue ParseNumber(string token, int start)
        {
            switch (token)
            {
                case "inf" or "+inf": return new TomlFloat(double.PositiveInfinity);
                case "-inf": return new TomlFloat(double.NegativeInfinity);
                case "nan" or "+nan" or "-nan": return new TomlFloat(double.NaN);
            }
            var signed = token[0] is '+' or '-';
            var negative = token[0] == '-';
            var body = signed ? token[1..] : token;
            if (body.Length == 0 || !(IsDigit(body[0]) || body[0] == '_'))
            {
                throw Fail(start, $"'{token}' is not a valid value (strings must be quoted; booleans are true/false)");
            }
            if (body.Length > 1 && body[0] == '0' && body[1] is 'x' or 'o' or 'b')
            {
                if (signed)
                {
                    throw Fail(start, $"'{token}': hexadecimal, octal and binary integers cannot have a sign");
                }
                return new TomlInteger(ParseRadixInteger(body, start));
            }
            if (body.AsSpan().IndexOfAny(".eE") >= 0)
            {
                return new TomlFloat(ParseFloat(token, body, signed, start));
            }
            if (body.AsSpan().IndexOfAny('-', ':') >= 0)
            {
                throw Fail(start, $"'{token}' is neither a number nor a date/time (dates look like 1979-05-27, times like 07:32:00)");
            }
            var digits = CleanDigits(body, start, "integer", allowLeadingZeros: false);
            if (!ulong.TryParse(digits, NumberStyles.None, CultureInfo.InvariantCulture, out var magnitude)
                || magnitude > (negative ? 9223372036854775808UL : long.MaxValue))
            {
                throw Fail(start, $"integer {token} does not fit in 64 bits (range -9223372036854775808..9223372036854775807)");
            }
            return new TomlInteger(negative ? (long)(0UL - magnitude) : (long)magnitude);
        }

        /// <summary>Removes underscores after checking each one sits between two digits.</summary>
        private string CleanDigits(string part, int start, string what, bool allowLeadingZeros, Func<char, bool>? isDigit = null)
        {
            isDigit ??= IsDigit;
            if (part.Length == 0)
            {
                throw Fail(start, $"{what} has no digits");
            }
            var sb = new StringBuilder(part.Length);
            for (var i = 0; i < part.Length; i++)
            {
                var c = part[i];
                if (c == '_')
                {
                    if (i == 0 || i == part.Length - 1 || part[i - 1] == '_' || !isDigit(part[i - 1]) || !isDigit(part[i + 1]))
                    {
                        throw Fail(start, $"in {what} '{part}': an underscore must sit between two digits");
                    }
                    continue;
                }
                if (!isDigit(c))
                {
                    throw Fail(start, $"invalid character '{c}' in {what} '{part}'");
                }
                sb.Append(c);
            }
            if (!allowLeadingZeros && sb.Length > 1 && sb[0] == '0')
            {
                throw Fail(start, $"leading zeros are not allowed in {what} '{part}'");
            }
            return sb.ToString();
        }

        private long ParseRadixInteger(string body, int start)
        {
            var (radix, name, isDigit) = body[1] switch
            {
                'x' => (16, "hexadecimal integer", (Func<char, bool>)(c => HexDigit(c) >= 0)),
                'o' => (8, "octal integer", c => c is >= '0' and <= '7'),
                _ => (2, "binary integer", (Func<char, bool>)(c => c is '0' or '1')),
            };
            var digits = CleanDigits(body[2..], start, name, allowLeadingZeros: true, isDigit);
            ulong value = 0;
            foreach (var c in digits)
            {
                var d = (ulong)HexDigit(c);
                if (value > (ulong.MaxValue - d) / (ulong)radix)
                {
                    throw Fail(start, $"{name} {body} does not fit in 64 bits");
                }
                value = value * (ulong)radix + d;
            }
            if (value > long.MaxValue)
            {
                throw Fail(start, $"{name} {body} is larger than 9223372036854775807, the largest TOML integer");
            }
            return (long)value;
        }

        private double ParseFloat(string token, string body, bool signed, int start)
        {
            var exponentAt = body.AsSpan().IndexOfAny('e', 'E');
            var mantissa = exponentAt >= 0 ? body[..exponentAt] : body;
            var exponent = exponentAt >= 0 ? body[(exponentAt + 1)..] : null;
            var dot = mantissa.IndexOf('.', StringComparison.Ordinal);
            var integerPart = dot >= 0 ? mantissa[..dot] : mantissa;
            var fractionPart = dot >= 0 ? mantissa[(dot + 1)..] : null;

            var clean = new StringBuilder(token.Length);
            if (signed) clean.Append(token[0]);
            if (integerPart.Length == 0)
            {
                throw Fail(start, $"float '{token}' needs a digit before '.'");
            }
            clean.Append(CleanDigits(integerPart, start, "float", allowLeadingZeros: false));
            if (fractionPart is not null)
            {
                if (fractionPart.Length == 0)
                {
                    throw Fail(start, $"float '{token}' needs a digit after '.'");
                }
                clean.Append('.').Append(CleanDigits(fractionPart, start, "float fraction", allowLeadingZeros: true));
            }
            if (exponent is not null)
            {
                clean.Append('e');
                var exponentDigits = exponent;
                if (exponent.Length > 0 && exponent[0] is '+' or '-')
                {
                    clean.Append(exponent[0]);
                    exponentDigits = exponent[1..];
                }
                if (exponentDigits.Length == 0)
                {
                    throw Fail(start, $"float '{token}' needs digits in its exponent");
                }
                clean.Append(CleanDigits(exponentDigits, start, "float exponent", allowLeadingZeros: true));
            }
            var value = double.Parse(clean.ToString(), NumberStyles.Float, CultureInfo.InvariantCulture);
            if (double.IsInfinity(value))
            {
                throw Fail(start, $"float {token} is too large for a 64-bit float");
            }
            return value;
        }

        private TomlDateTime ParseDateTime(string token, int start)
        {
            if (token.Length < 10 || !IsDigit(token[5]) || !IsDigit(token[6]) || token[7] != '-' || !IsDigit(token[8]) || !IsDigit(token[9]))
            {
                throw Fail(start, $"'{token}' is not a valid date (expected YYYY-MM-DD)");
            }
            var year = Number(token, 0, 4);
            var month = Number(token, 5, 2);
            var day = Number(token, 8, 2);
            if (token.Length == 10)
            {
                CheckDate(year, month, day, 0, 0, 0, 0, null, token, start);
                return TomlDateTime.Unchecked(TomlValueKind.LocalDate, year, month, day, 0, 0, 0, 0, null);
            }
            if (token[10] is not ('T' or 't' or ' '))
            {
                throw Fail(start + 10, $"'{token}': expected 'T' or a space between date and time, found {Found(start + 10)}");
            }
            var end = ParseTime(token, 11, start, out var hour, out var minute, out var second, out var nanos);
            int? offset = null;
            if (end < token.Length)
            {
                var o = token[end];
                if (o is 'Z' or 'z' && end + 1 == token.Length)
                {
                    offset = 0;
                }
                else if (o is '+' or '-' && token.Length - end == 6 && IsDigit(token[end + 1]) && IsDigit(token[end + 2])
                         && token[end + 3] == ':' && IsDigit(token[end + 4]) && IsDigit(token[end + 5]))
                {
                    var oh = Number(token, end + 1, 2);
                    var om = Number(token, end + 4, 2);
                    if (oh > 23 || om > 59)
                    {
                        throw Fail(start + end, $"'{token}': offset {token[end..]} is out of range (hours 00-23, minutes 00-59)");
                    }
                    offset = (o == '-' ? -1 : 1) * (oh * 60 + om);
                }
                else
                {
                    throw Fail(start + end, $"'{token}': expected 'Z' or an offset like +01:00 after the time, found '{token[end..]}'");
                }
            }
            CheckDate(year, month, day, hour, minute, second, nanos, offset, token, start);
            return TomlDateTime.Unchecked(offset is null ? TomlValueKind.LocalDateTime : TomlValueKind.OffsetDateTime,
                year, month, day, hour, minute, second, nanos, offset);
        }

        private void CheckDate(int year, int month, int day, int hour, int minute, int second, int nanos, int? offset, string token, int start)
        {
            var problem = TomlDateTime.Validate(year, month, day, hour, minute, second, nanos, offset);
            if (problem is not null)
            {
                throw Fail(start, $"'{token}' is not a valid date-time: {problem}");
            }
        }

        /// <summary>Parses HH:MM:SS[.fraction] at <paramref name="at"/>; returns the index after it.</summary>
        private int ParseTime(string token, int at, int start, out int hour, out int minute, out int second, out int nanos)
        {
            if (token.Length - at < 8 || !IsDigit(token[at]) || !IsDigit(token[at + 1]) || token[at + 2] != ':'
                || !IsDigit(token[at + 3]) || !IsDigit(token[at + 4]) || token[at + 5] != ':'
                || !IsDigit(token[at + 6]) || !IsDigit(token[at + 7]))
            {
                throw Fail(start + at, $"'{token}' is not a valid time (expected HH:MM:SS with two digits each; seconds are required in TOML 1.0)");
            }
            hour = Number(token, at, 2);
            minute = Number(token, at + 3, 2);
            second = Number(token, at + 6, 2);
            nanos = 0;
            var i = at + 8;
            if (i < token.Length && token[i] == '.')
            {
                i++;
                var digitsStart = i;
                while (i < token.Length && IsDigit(token[i]))
                {
                    if (i - digitsStart < 9)
                    {
                        nanos = nanos * 10 + (token[i] - '0');
                    }
                    i++;
                }
                if (i == digitsStart)
                {
                    throw Fail(start + i, $"'{token}': a '.' in a time must be followed by digits");
                }
                for (var n = Math.Min(i - digitsStart, 9); n < 9; n++)
                {
                    nanos *= 10;
                }
            }
            var problem = TomlDateTime.Validate(2000, 1, 1, hour, minute, second, nanos, null);
            if (problem is not null)
            {
                throw Fail(start + at, $"'{token}' is not a valid time: {problem}");
            }
            return i;
        }

        private static int Number(string s, int at, int length)
        {
            var value = 0;
            for (var i = at; i < at + length; i++)
            {
                value = value * 10 + (s[i] - '0');
            }
            return value;
        }
    }
}
