using System.Text;
using Duckton.Core.Data;
using Duckton.DuckDB;
using Duckton.DuckDB.Native;
using Duckton.Engine;

namespace Duckton.Sql.Tests;

/// <summary>
/// <c>storage.allowed_local_paths</c> on the real libduckdb: the job engine reads files under the shared roots and
/// nothing else, writes nothing, and the input fingerprint follows the documented rule.
/// </summary>
public sealed class SharedFilesTests : IDisposable
{
    private readonly string _dir;
    private readonly string _share;
    private readonly string _outside;

    public SharedFilesTests()
    {
        DuckDBNative.InitializeFromLibrary();
        _dir = Directory.CreateTempSubdirectory("duckton-shared-files-").FullName;
        _share = Path.Combine(_dir, "share");
        _outside = Path.Combine(_dir, "outside");
        Directory.CreateDirectory(Path.Combine(_share, "sub"));
        Directory.CreateDirectory(_outside);
        File.WriteAllText(Path.Combine(_share, "t.csv"), "a,b\n1,2\n3,4\n");
        File.WriteAllText(Path.Combine(_share, "sub", "u.csv"), "a,b\n5,6\n");
        File.WriteAllText(Path.Combine(_outside, "secret.csv"), "a,b\n7,8\n");
        // A sibling whose name extends the root's: a plain prefix check would let it through.
        Directory.CreateDirectory(_share + "x");
        File.WriteAllText(Path.Combine(_share + "x", "s.csv"), "a,b\n9,9\n");
    }

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private LockedDownEngine Engine(params string[] roots) => new(EngineOptions.Default with { WarmInstances = 0, Threads = 1, AllowedDirectories = roots });

    private static string Scalar(LockedDownEngine engine, string sql)
    {
        var r = engine.Execute($"SELECT CAST(({sql}) AS VARCHAR) AS v");
        return Encoding.UTF8.GetString(r.Batches[0].Columns[0].GetBytes(0));
    }

    private static string Lit(string s) => "'" + s.Replace("'", "''", StringComparison.Ordinal) + "'";

    [Fact]
    public void Without_shared_directories_no_file_is_readable()
    {
        using var engine = Engine();
        var e = Assert.Throws<DuckDBException>(() => engine.Execute($"SELECT count(*) FROM {Lit(Path.Combine(_share, "t.csv"))}"));
        Assert.Contains("disabled", e.Message);
        Assert.Equal(LockedDownEngine.LockdownSql, LockedDownEngine.LockdownSqlFor(EngineOptions.Default));
        Assert.Contains(LockedDownEngine.LockdownSettings(EngineOptions.Default), s => s.Key == "enable_external_access" && s.Value == "false");
    }

    [Fact]
    public void Files_under_a_shared_root_are_readable_by_absolute_path_glob_and_share_url()
    {
        using var engine = Engine(_share);
        Assert.Equal("2", Scalar(engine, $"SELECT count(*) FROM {Lit(Path.Combine(_share, "t.csv"))}"));
        Assert.Equal("2", Scalar(engine, $"SELECT count(*) FROM read_csv({Lit("file://" + Path.Combine(_share, "t.csv"))})"));
        Assert.Equal("3", Scalar(engine, $"SELECT count(*) FROM read_csv({Lit(_share + "/**/*.csv")})"));
        Assert.Equal("1", Scalar(engine, "SELECT count(*) FROM 'share://sub/u.csv'"));
        Assert.Equal("3", Scalar(engine, "SELECT count(*) FROM read_csv(['share://t.csv', 'share://sub/*.csv'])"));
        // A read-only SELECT leaves the instance pristine: a second one on the same engine still works.
        Assert.Equal("10", Scalar(engine, "SELECT sum(a + b) FROM 'share://t.csv'"));
        // In-memory DDL/DML scripts still run.
        Assert.Equal("3", Scalar(engine, "SELECT 3"));
        var script = engine.Execute("CREATE TABLE x AS SELECT * FROM 'share://t.csv'; INSERT INTO x VALUES (9, 9); SELECT count(*)::VARCHAR AS n FROM x");
        Assert.Equal("3", Encoding.UTF8.GetString(script.Batches[0].Columns[0].GetBytes(0)));
    }

    [Fact]
    public void Nothing_outside_the_shared_roots_is_readable()
    {
        File.CreateSymbolicLink(Path.Combine(_share, "link.csv"), Path.Combine(_outside, "secret.csv"));
        Directory.CreateSymbolicLink(Path.Combine(_share, "linkdir"), _outside);
        using var engine = Engine(_share);
        foreach (var path in new[]
        {
            Path.Combine(_outside, "secret.csv"),
            _share + "/../outside/secret.csv",
            _share + "/sub/../../outside/secret.csv",
            "share://../outside/secret.csv",
            "file://" + Path.Combine(_outside, "secret.csv"),
            Path.Combine(_share + "x", "s.csv"),
            Path.Combine(_share, "link.csv"),
            Path.Combine(_share, "linkdir", "secret.csv"),
            "/etc/passwd",
            "t.csv",
        })
        {
            var e = Assert.Throws<DuckDBException>(() => engine.Execute($"SELECT * FROM read_csv({Lit(path)})"));
            Assert.Contains("Permission", e.Message, StringComparison.OrdinalIgnoreCase);
        }
        Assert.Throws<DuckDBException>(() => engine.Execute($"SELECT * FROM read_text({Lit(Path.Combine(_outside, "secret.csv"))})"));
        Assert.Throws<DuckDBException>(() => engine.Execute($"SELECT * FROM glob({Lit(_dir + "/*")})"));
    }

    [Fact]
    public void Nothing_can_be_written_even_inside_a_shared_root()
    {
        using var engine = Engine(_share);
        var before = Directory.GetFileSystemEntries(_share, "*", SearchOption.AllDirectories).Order().ToArray();
        foreach (var sql in new[]
        {
            $"COPY (SELECT 1 AS x) TO {Lit(Path.Combine(_share, "out.csv"))}",
            "COPY (SELECT 1 AS x) TO 'share://out.parquet' (FORMAT parquet)",
            $"EXPORT DATABASE {Lit(Path.Combine(_share, "exp"))}",
            $"ATTACH {Lit(Path.Combine(_share, "x.db"))}",
            $"EXPLAIN ANALYZE COPY (SELECT 1 AS x) TO {Lit(Path.Combine(_share, "e.csv"))}",
            $"CREATE TABLE t AS SELECT 1 AS x; COPY t TO {Lit(Path.Combine(_share, "s.csv"))}",
            $"PREPARE p AS COPY (SELECT 1) TO {Lit(Path.Combine(_share, "p.csv"))}; EXECUTE p",
            $"CALL pragma_version()",
            $"SELECT 1; EXPORT DATABASE {Lit(Path.Combine(_share, "exp2"))}",
            $"/* c */ (EXPORT DATABASE {Lit(Path.Combine(_share, "exp3"))})",
        })
        {
            var e = Assert.Throws<DuckDBException>(() => engine.Execute(sql));
            Assert.Contains("read-only", e.Message);
        }
        // The lock-down cannot be undone by the SQL.
        Assert.Throws<DuckDBException>(() => engine.Execute("SET allowed_directories=['/']"));
        Assert.Throws<DuckDBException>(() => engine.Execute("SET enable_external_access=true"));
        Assert.Throws<DuckDBException>(() => engine.Execute("SET temp_directory='/tmp'"));
        Assert.Equal(before, Directory.GetFileSystemEntries(_share, "*", SearchOption.AllDirectories).Order().ToArray());
    }

    [Fact]
    public void String_literals_honour_escapes_and_skip_comments_identifiers_and_dollar_quotes()
    {
        var sql = "SELECT 'a''b' AS \"x'y\", -- 'not'\n /* 'nor' */ $$'neither'$$, $t$ 'no' $t$, E'c', $1 FROM 'share://d.csv'";
        Assert.Equal(["a'b", "c", "share://d.csv"], LocalInputs.StringLiterals(sql).Select(l => l.Value).ToArray());
        Assert.Equal(["SELECT", "COPY", "EXPORT", "WITH"], LocalInputs.StatementHeads("-- x;\n select ';' ; (COPY t TO 'x');/* ; */EXPORT DATABASE 'd'; with a as (select 1) select * from a"));
        var (start, length, _) = LocalInputs.StringLiterals(sql).First();
        Assert.Equal("'a''b'", sql.Substring(start, length));
    }

    [Fact]
    public void Share_urls_are_rewritten_to_this_hosts_root_and_other_literals_kept()
    {
        var inputs = new LocalInputs([_share]);
        Assert.Equal($"SELECT * FROM '{_share}/t.csv' WHERE b <> 'share:/x'", inputs.Rewrite("SELECT * FROM 'share://t.csv' WHERE b <> 'share:/x'"));
        Assert.Equal("SELECT 'share://t.csv'", new LocalInputs([]).Rewrite("SELECT 'share://t.csv'"));
    }

    [Fact]
    public void Globs_expand_to_the_files_DuckDB_reads()
    {
        File.WriteAllText(Path.Combine(_share, "sub", "v.csv"), "a,b\n0,0\n");
        File.WriteAllText(Path.Combine(_share, "t2.csv"), "a,b\n0,0\n");
        using var engine = Engine(_share);
        var inputs = engine.Inputs;
        foreach (var pattern in new[] { "/*.csv", "/**/*.csv", "/s?b/[uv].csv", "/sub/[!u]*.csv", "/**", "/t*.csv" })
        {
            var ours = inputs.FilesRead($"SELECT * FROM read_csv('{_share}{pattern}')").Select(f => f.FullPath).Order(StringComparer.Ordinal).ToArray();
            var r = engine.Execute($"SELECT file FROM glob('{_share}{pattern}')");
            var duck = r.Batches.SelectMany(b => Enumerable.Range(0, b.RowCount).Select(i => Encoding.UTF8.GetString(b.Columns[0].GetBytes(i)))).Order(StringComparer.Ordinal).ToArray();
            Assert.Equal(duck, ours);
            Assert.NotEmpty(ours);
        }
    }

    [Fact]
    public void Fingerprint_covers_relative_path_size_and_content_not_where_the_root_is()
    {
        var copy = Path.Combine(_dir, "copy");
        CopyTree(_share, copy);
        var a = new LocalInputs([_share]);
        var b = new LocalInputs([copy]);
        const string sql = "SELECT * FROM read_csv(['share://sub/u.csv', 'share://t.csv'])";
        var fa = a.Snapshot(sql).Fingerprint;
        Assert.Equal(32, fa.Length);
        // Same files at another place, named absolutely or in another order: same fingerprint.
        Assert.Equal(fa, b.Snapshot(sql).Fingerprint);
        Assert.Equal(fa, b.Snapshot($"SELECT * FROM read_csv(['{copy}/t.csv', '{copy}/sub/../sub/u.csv'])").Fingerprint);
        // Reading no shared file: empty, as before file inputs existed.
        Assert.Empty(a.Snapshot("SELECT 42").Fingerprint);
        Assert.Empty(a.Snapshot($"SELECT * FROM '{_outside}/secret.csv'").Fingerprint);
        Assert.Empty(a.Snapshot("SELECT 'share://missing.csv'").Fingerprint);
        // Changed content of the same size, a renamed file, a different set: all different.
        File.WriteAllText(Path.Combine(copy, "t.csv"), "a,b\n1,2\n3,5\n");
        Assert.NotEqual(fa, new LocalInputs([copy]).Snapshot(sql).Fingerprint);
        Assert.NotEqual(fa, a.Snapshot("SELECT * FROM 'share://t.csv'").Fingerprint);
        File.Move(Path.Combine(copy, "sub", "u.csv"), Path.Combine(copy, "sub", "w.csv"));
        Assert.NotEqual(
            new LocalInputs([_share]).Snapshot("SELECT * FROM 'share://sub/*.csv'").Fingerprint,
            new LocalInputs([copy]).Snapshot("SELECT * FROM 'share://sub/*.csv'").Fingerprint);
    }

    [Fact]
    public void Content_hashes_are_cached_by_path_size_and_mtime()
    {
        var inputs = new LocalInputs([_share]);
        var path = Path.Combine(_share, "t.csv");
        var first = inputs.Snapshot("SELECT * FROM 'share://t.csv'");
        Assert.Equal(1, inputs.CachedHashes);
        // Same size and mtime: the cached hash is used, so a same-size rewrite with the old mtime restored is not seen
        // (the documented limit of the cache key).
        var mtime = File.GetLastWriteTimeUtc(path);
        File.WriteAllText(path, "a,b\n9,9\n9,9\n");
        File.SetLastWriteTimeUtc(path, mtime);
        Assert.Equal(first.Fingerprint, inputs.Snapshot("SELECT * FROM 'share://t.csv'").Fingerprint);
        Assert.True(first.Unchanged());
        // A new mtime invalidates the entry.
        File.SetLastWriteTimeUtc(path, mtime.AddSeconds(5));
        Assert.False(first.Unchanged());
        Assert.NotEqual(first.Fingerprint, inputs.Snapshot("SELECT * FROM 'share://t.csv'").Fingerprint);
    }

    private static void CopyTree(string from, string to)
    {
        foreach (var dir in Directory.GetDirectories(from, "*", SearchOption.AllDirectories))
        {
            Directory.CreateDirectory(Path.Combine(to, Path.GetRelativePath(from, dir)));
        }
        Directory.CreateDirectory(to);
        foreach (var file in Directory.GetFiles(from, "*", SearchOption.AllDirectories))
        {
            File.Copy(file, Path.Combine(to, Path.GetRelativePath(from, file)));
        }
    }
}
