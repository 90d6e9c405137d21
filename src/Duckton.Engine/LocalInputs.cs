using System.Buffers;
using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Text;
using System.Text.RegularExpressions;
using Duckton.Core.Data;
using Duckton.Core.Hashing;

namespace Duckton.Engine;

/// <summary>One file a query reads: where it is, its path relative to the shared root it lies under, and its size.</summary>
public sealed record InputFile(string FullPath, string RelativePath, long Size, DateTime ModifiedUtc);

/// <summary>The files a query reads and their fingerprint (empty when it reads none).</summary>
public sealed record InputSnapshot(IReadOnlyList<InputFile> Files, byte[] Fingerprint)
{
    public static InputSnapshot None { get; } = new([], []);

    /// <summary>True when every file still has the size and modification time it had when the snapshot was taken.</summary>
    public bool Unchanged()
    {
        foreach (var f in Files)
        {
            var info = new FileInfo(f.FullPath);
            if (!info.Exists || info.Length != f.Size || info.LastWriteTimeUtc != f.ModifiedUtc)
            {
                return false;
            }
        }
        return true;
    }
}

/// <summary>
/// The read-only local directories a host shares (<c>storage.allowed_local_paths</c>): which files a query reads,
/// their input fingerprint, and the <c>share://</c> spelling that lets one query name the same data on hosts that
/// keep it in different places.
/// </summary>
/// <remarks>
/// Rule (docs/PROTOCOL.md, "Input fingerprint"): the files a query reads are those named by its single-quoted string
/// literals (<c>''</c> escapes honoured; comments, quoted identifiers and dollar-quoted text skipped) that are either
/// <c>share://relative/path</c> or an absolute path (<c>file://</c> allowed) which, after normalising <c>..</c>, lies
/// under a shared root; globs (<c>*</c>, <c>?</c>, <c>[...]</c>, <c>**</c>) are expanded as DuckDB does. Paths built at
/// run time (concatenation, values read from tables) are not seen: the fingerprint covers exactly the literal paths.
/// </remarks>
public sealed class LocalInputs
{
    /// <summary>Prefix of a path relative to the host's shared root(s); the host substitutes its own location.</summary>
    public const string SharePrefix = "share://";

    private static ReadOnlySpan<byte> Domain => "duckton-inputs-v1"u8;
    private readonly ConcurrentDictionary<string, (long Size, DateTime Modified, byte[] Hash)> _contentHashes = new(StringComparer.Ordinal);

    public LocalInputs(IEnumerable<string> roots)
    {
        // DuckDB compares allowed directories as prefixes: the trailing separator stops /data matching /data2.
        Roots = [.. roots.Where(r => r.Length > 0).Select(r => Path.TrimEndingDirectorySeparator(Path.GetFullPath(r)) + "/").Distinct(StringComparer.Ordinal)];
    }

    /// <summary>The shared roots, absolute, each ending in <c>/</c>. Empty: the host shares no files.</summary>
    public IReadOnlyList<string> Roots { get; }

    public bool Enabled => Roots.Count > 0;

    /// <summary>Content hashes computed so far (cache entries), for tests.</summary>
    public int CachedHashes => _contentHashes.Count;

    /// <summary>Every single-quoted string literal of <paramref name="sql"/>: its span (quotes included) and unescaped value.</summary>
    public static IEnumerable<(int Start, int Length, string Value)> StringLiterals(string sql) =>
        Tokens(sql).Where(t => t.Kind == TokenKind.Literal).Select(t => (t.Start, t.Length, t.Value));

    /// <summary>The first keyword of every statement (upper case), or <c>""</c> for a statement that starts otherwise.</summary>
    public static IReadOnlyList<string> StatementHeads(string sql)
    {
        var heads = new List<string>();
        var expecting = true;
        foreach (var t in Tokens(sql))
        {
            if (t.Kind == TokenKind.Semicolon)
            {
                expecting = true;
            }
            else if (expecting && t.Kind != TokenKind.OpenParen)
            {
                heads.Add(t.Kind == TokenKind.Word ? t.Value.ToUpperInvariant() : "");
                expecting = false;
            }
        }
        return heads;
    }

    private enum TokenKind
    {
        Literal,
        Word,
        Semicolon,
        OpenParen,
        Other,
    }

    /// <summary>
    /// A lexer just deep enough for paths and statement boundaries: string literals (<c>''</c> escapes), words,
    /// <c>;</c> and <c>(</c>; comments, quoted identifiers and dollar-quoted text are skipped (reported as Other).
    /// </summary>
    private static IEnumerable<(TokenKind Kind, int Start, int Length, string Value)> Tokens(string sql)
    {
        var i = 0;
        while (i < sql.Length)
        {
            if (SqlComments.End(sql, i, out _) is var afterComment and >= 0)
            {
                i = afterComment;
                continue;
            }
            var c = sql[i];
            if (c == '"')
            {
                var start = i;
                i = SkipQuoted(sql, i, '"');
                yield return (TokenKind.Other, start, i - start, "");
            }
            else if (c == '$' && DollarTag(sql, i) is { } tag)
            {
                var start = i;
                var end = sql.IndexOf(tag, i + tag.Length, StringComparison.Ordinal);
                i = end < 0 ? sql.Length : end + tag.Length;
                yield return (TokenKind.Other, start, i - start, "");
            }
            else if (c == '\'')
            {
                var start = i;
                var value = new StringBuilder();
                i++;
                while (i < sql.Length)
                {
                    if (sql[i] == '\'')
                    {
                        if (i + 1 < sql.Length && sql[i + 1] == '\'')
                        {
                            value.Append('\'');
                            i += 2;
                            continue;
                        }
                        break;
                    }
                    value.Append(sql[i++]);
                }
                if (i >= sql.Length)
                {
                    yield break; // unterminated: DuckDB rejects the statement anyway
                }
                i++;
                yield return (TokenKind.Literal, start, i - start, value.ToString());
            }
            else if (char.IsLetter(c) || c == '_')
            {
                var start = i;
                while (i < sql.Length && (char.IsLetterOrDigit(sql[i]) || sql[i] == '_'))
                {
                    i++;
                }
                yield return (TokenKind.Word, start, i - start, sql[start..i]);
            }
            else if (char.IsWhiteSpace(c))
            {
                i++;
            }
            else
            {
                yield return (c switch { ';' => TokenKind.Semicolon, '(' => TokenKind.OpenParen, _ => TokenKind.Other }, i, 1, "");
                i++;
            }
        }

        static int SkipQuoted(string s, int i, char quote)
        {
            i++;
            while (i < s.Length)
            {
                if (s[i] == quote)
                {
                    if (i + 1 < s.Length && s[i + 1] == quote)
                    {
                        i += 2;
                        continue;
                    }
                    return i + 1;
                }
                i++;
            }
            return s.Length;
        }

        // $$ or $tag$ opens a dollar-quoted string (a $1 parameter does not).
        static string? DollarTag(string s, int i)
        {
            var j = i + 1;
            while (j < s.Length && (char.IsLetter(s[j]) || s[j] == '_' || (j > i + 1 && char.IsDigit(s[j]))))
            {
                j++;
            }
            return j < s.Length && s[j] == '$' ? s[i..(j + 1)] : null;
        }
    }

    /// <summary>
    /// <paramref name="sql"/> with every <c>share://relative</c> literal replaced by the absolute path on this host (under the
    /// first root where it matches a file, else the first root). Unchanged when this host shares nothing.
    /// </summary>
    public string Rewrite(string sql)
    {
        if (!Enabled || !sql.Contains(SharePrefix, StringComparison.Ordinal))
        {
            return sql;
        }
        var sb = new StringBuilder(sql.Length + 64);
        var at = 0;
        foreach (var (start, length, value) in StringLiterals(sql))
        {
            if (!value.StartsWith(SharePrefix, StringComparison.Ordinal))
            {
                continue;
            }
            var relative = value[SharePrefix.Length..].TrimStart('/');
            var root = Roots.FirstOrDefault(r => Expand(r, relative).Any()) ?? Roots[0];
            sb.Append(sql, at, start - at).Append('\'').Append((root + relative).Replace("'", "''", StringComparison.Ordinal)).Append('\'');
            at = start + length;
        }
        return sb.Append(sql, at, sql.Length - at).ToString();
    }

    /// <summary>The shared files <paramref name="sql"/> names (see the rule above), each once, sorted by relative path.</summary>
    public IReadOnlyList<InputFile> FilesRead(string sql)
    {
        if (!Enabled)
        {
            return [];
        }
        var files = new Dictionary<string, InputFile>(StringComparer.Ordinal);
        foreach (var (_, _, value) in StringLiterals(sql))
        {
            foreach (var (root, relative) in Candidates(value))
            {
                foreach (var full in Expand(root, relative))
                {
                    if (files.ContainsKey(full) || !Contained(full))
                    {
                        continue;
                    }
                    var info = new FileInfo(full);
                    files[full] = new InputFile(full, full[root.Length..], info.Length, info.LastWriteTimeUtc);
                }
            }
        }
        return [.. files.Values.OrderBy(f => f.RelativePath, StringComparer.Ordinal).ThenBy(f => f.FullPath, StringComparer.Ordinal)];
    }

    /// <summary>The files <paramref name="sql"/> reads and their fingerprint; reads (or reuses the cached hash of) every file.</summary>
    public InputSnapshot Snapshot(string sql, CancellationToken cancellationToken = default)
    {
        var files = FilesRead(sql);
        return files.Count == 0 ? InputSnapshot.None : new InputSnapshot(files, Fingerprint(files, cancellationToken));
    }

    /// <summary>
    /// BLAKE3 over <c>"duckton-inputs-v1"</c> then, per file in ordinal order of its relative path: u32 LE byte length and
    /// UTF-8 of the relative path (<c>/</c>-separated), u64 LE size, the 32-byte BLAKE3 of its content. Empty for no files.
    /// </summary>
    public byte[] Fingerprint(IReadOnlyList<InputFile> files, CancellationToken cancellationToken = default)
    {
        if (files.Count == 0)
        {
            return [];
        }
        var h = new Blake3Hasher();
        h.Update(Domain);
        Span<byte> number = stackalloc byte[8];
        foreach (var f in files.OrderBy(f => f.RelativePath, StringComparer.Ordinal))
        {
            var path = Encoding.UTF8.GetBytes(f.RelativePath);
            BinaryPrimitives.WriteUInt32LittleEndian(number, (uint)path.Length);
            h.Update(number[..4]).Update(path);
            BinaryPrimitives.WriteUInt64LittleEndian(number, (ulong)f.Size);
            h.Update(number).Update(ContentHash(f, cancellationToken));
        }
        return h.FinalizeToArray();
    }

    /// <summary>BLAKE3 of a file's content, cached by (path, size, modification time) so repeated queries do not re-read big files.</summary>
    private byte[] ContentHash(InputFile f, CancellationToken cancellationToken)
    {
        if (_contentHashes.TryGetValue(f.FullPath, out var cached) && cached.Size == f.Size && cached.Modified == f.ModifiedUtc)
        {
            return cached.Hash;
        }
        var h = new Blake3Hasher();
        var buffer = ArrayPool<byte>.Shared.Rent(1 << 20);
        try
        {
            using var stream = new FileStream(f.FullPath, FileMode.Open, FileAccess.Read, FileShare.ReadWrite, 1, FileOptions.SequentialScan);
            int n;
            while ((n = stream.Read(buffer, 0, buffer.Length)) > 0)
            {
                cancellationToken.ThrowIfCancellationRequested();
                h.Update(buffer.AsSpan(0, n));
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
        var hash = h.FinalizeToArray();
        _contentHashes[f.FullPath] = (f.Size, f.ModifiedUtc, hash);
        return hash;
    }

    /// <summary>(root, path relative to it) pairs a literal may name.</summary>
    private IEnumerable<(string Root, string Relative)> Candidates(string value)
    {
        if (value.StartsWith(SharePrefix, StringComparison.Ordinal))
        {
            var relative = value[SharePrefix.Length..].TrimStart('/');
            // The same root Rewrite picks: the first with a match.
            foreach (var root in Roots)
            {
                if (Expand(root, relative).Any())
                {
                    yield return (root, relative);
                    yield break;
                }
            }
            yield break;
        }
        var path = value.StartsWith("file://", StringComparison.Ordinal) ? value["file://".Length..] : value;
        if (path.Length == 0 || path[0] != '/' || path.Contains('\0', StringComparison.Ordinal))
        {
            yield break;
        }
        string full;
        try
        {
            full = Path.GetFullPath(path);
        }
        catch (Exception e) when (e is ArgumentException or PathTooLongException or NotSupportedException)
        {
            yield break;
        }
        foreach (var root in Roots)
        {
            if (full.StartsWith(root, StringComparison.Ordinal))
            {
                yield return (root, full[root.Length..]);
                yield break;
            }
        }
    }

    /// <summary>True when the file's real location (symlinks resolved) lies under a shared root: DuckDB refuses anything else.</summary>
    private bool Contained(string full)
    {
        try
        {
            var target = new FileInfo(full).ResolveLinkTarget(returnFinalTarget: true)?.FullName ?? RealDirectory(full);
            return Roots.Any(r => target.StartsWith(r, StringComparison.Ordinal));
        }
        catch (IOException)
        {
            return false;
        }

        static string RealDirectory(string full)
        {
            // A file reached through a symlinked directory lives where that directory points.
            var dir = Path.GetDirectoryName(full)!;
            var parts = new List<string> { Path.GetFileName(full) };
            while (dir.Length > 1)
            {
                if (new DirectoryInfo(dir).ResolveLinkTarget(returnFinalTarget: true) is { } link)
                {
                    return Path.Combine([link.FullName, .. Enumerable.Reverse(parts)]);
                }
                parts.Add(Path.GetFileName(dir));
                dir = Path.GetDirectoryName(dir)!;
            }
            return full;
        }
    }

    /// <summary>Existing regular files matching <paramref name="relative"/> (a path or glob) under <paramref name="root"/>.</summary>
    internal static IEnumerable<string> Expand(string root, string relative)
    {
        if (relative.Length == 0)
        {
            return [];
        }
        if (relative.IndexOfAny(['*', '?', '[']) < 0)
        {
            string full;
            try
            {
                full = Path.GetFullPath(root + relative);
            }
            catch (Exception e) when (e is ArgumentException or PathTooLongException or NotSupportedException)
            {
                return [];
            }
            return File.Exists(full) && full.StartsWith(root, StringComparison.Ordinal) ? [full] : [];
        }
        var segments = relative.Split('/', StringSplitOptions.RemoveEmptyEntries);
        IEnumerable<string> dirs = [Path.TrimEndingDirectorySeparator(root)];
        for (var s = 0; s < segments.Length; s++)
        {
            var segment = segments[s];
            var last = s == segments.Length - 1;
            if (segment == "..")
            {
                return []; // a glob that climbs out of the root is refused by DuckDB; it reads nothing
            }
            if (segment == "**")
            {
                dirs = dirs.SelectMany(d => Walk(d)).Distinct(StringComparer.Ordinal);
                if (last)
                {
                    return dirs.SelectMany(d => SafeList(() => Directory.EnumerateFiles(d))).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();
                }
                continue;
            }
            var matcher = Matcher(segment);
            if (last)
            {
                return dirs.SelectMany(d => SafeList(() => Directory.EnumerateFiles(d)).Where(f => matcher(Path.GetFileName(f))))
                    .Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();
            }
            dirs = dirs.SelectMany(d => SafeList(() => Directory.EnumerateDirectories(d)).Where(x => matcher(Path.GetFileName(x)))).ToList();
        }
        return [];

        static IEnumerable<string> Walk(string dir)
        {
            yield return dir;
            foreach (var sub in SafeList(() => Directory.EnumerateDirectories(dir)))
            {
                if (new DirectoryInfo(sub).LinkTarget is not null)
                {
                    continue; // DuckDB's ** does not descend into symlinked directories
                }
                foreach (var d in Walk(sub))
                {
                    yield return d;
                }
            }
        }

        static IEnumerable<string> SafeList(Func<IEnumerable<string>> list)
        {
            try
            {
                return list().ToList();
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                return [];
            }
        }
    }

    /// <summary>A matcher for one glob segment: <c>*</c>, <c>?</c> and <c>[...]</c> (<c>[!...]</c> negates).</summary>
    private static Func<string, bool> Matcher(string segment)
    {
        if (segment.IndexOfAny(['*', '?', '[']) < 0)
        {
            return name => name == segment;
        }
        var re = new StringBuilder("^");
        for (var i = 0; i < segment.Length; i++)
        {
            var c = segment[i];
            switch (c)
            {
                case '*':
                    re.Append(".*");
                    break;
                case '?':
                    re.Append('.');
                    break;
                case '[' when segment.IndexOf(']', i + 1) is var close and > 0:
                    var body = segment[(i + 1)..close];
                    re.Append('[').Append(body.StartsWith('!') ? "^" + Regex.Escape(body[1..]) : Regex.Escape(body)).Append(']');
                    i = close;
                    break;
                default:
                    re.Append(Regex.Escape(c.ToString()));
                    break;
            }
        }
        var regex = new Regex(re.Append('$').ToString(), RegexOptions.CultureInvariant | RegexOptions.Singleline);
        return regex.IsMatch;
    }
}
