using System.Text;
using Duckton.Core.Data;
using Duckton.DuckDB;
using Duckton.DuckDB.Native;
using Duckton.Sql;

namespace Duckton.Extension.Tests;

/// <summary>
/// The same file loaded into this CoreCLR process, which hosts libduckdb itself: two .NET runtimes in one process,
/// each with its own GC and its own copy of the API table.
/// </summary>
[Collection(ExtensionCollection.Name)]
public class InProcessTests(ExtensionFixture fixture)
{
    private static readonly KeyValuePair<string, string>[] Unsigned = [new("allow_unsigned_extensions", "true")];

    private string LoadSql(string? path = null) => $"LOAD '{(path ?? fixture.ExtensionPath).Replace("'", "''", StringComparison.Ordinal)}'";

    private static int Int32At(ResultSet r, int column) => BitConverter.ToInt32(r.Batches[0].Columns[column].GetFixed(0));

    private static long Int64At(ResultSet r, int column) => BitConverter.ToInt64(r.Batches[0].Columns[column].GetFixed(0));

    [Fact]
    public void The_extension_loads_into_a_CoreCLR_process_hosting_libduckdb()
    {
        var source = DuckDBNative.Source;
        Assert.NotEqual("extension", source);

        using var db = DuckDBDatabase.Open(null, Unsigned);
        using var connection = db.Connect();
        connection.Execute(LoadSql());
        var r = connection.QueryAll("SELECT * FROM p2p_query('SELECT 42 AS answer')");
        Assert.Equal(["answer"], r.Schema.Names);
        Assert.Equal(DuckType.Integer, r.Schema.Types[0]);
        Assert.Equal(1, r.RowCount);
        Assert.Equal(42, Int32At(r, 0));

        // The extension filled its own API table inside its own runtime; this process's table is untouched.
        Assert.Equal(source, DuckDBNative.Source);
        Assert.Equal("v1.5.6", DuckDBNative.LibraryVersion);
    }

    [Fact]
    public async Task Two_databases_load_it_and_query_concurrently_while_this_runtime_collects_garbage()
    {
        using var db1 = DuckDBDatabase.Open(null, Unsigned);
        using var db2 = DuckDBDatabase.Open(null, Unsigned);
        foreach (var db in new[] { db1, db2 })
        {
            using var c = db.Connect();
            c.Execute(LoadSql());
        }
        using var stop = new CancellationTokenSource();
        var collector = Task.Factory.StartNew(() =>
        {
            while (!stop.IsCancellationRequested)
            {
                GC.Collect();
                Thread.Sleep(1);
            }
        }, TaskCreationOptions.LongRunning);
        var workers = Enumerable.Range(0, 4).Select(w => Task.Factory.StartNew(() =>
        {
            var db = w % 2 == 0 ? db1 : db2;
            using var c = db.Connect();
            for (var i = 0; i < 10; i++)
            {
                long n = 10_000 * (w + 1) + i;
                var r = c.QueryAll($"SELECT * FROM p2p_query('SELECT count(*)::BIGINT AS n, sum(i)::BIGINT AS s, ''w{w}'' AS who FROM range({n}) t(i)')");
                Assert.Equal(n, Int64At(r, 0));
                Assert.Equal(n * (n - 1) / 2, Int64At(r, 1));
                Assert.Equal($"w{w}", Encoding.UTF8.GetString(r.Batches[0].Columns[2].GetBytes(0)));
            }
        }, TaskCreationOptions.LongRunning)).ToArray();
        try
        {
            await Task.WhenAll(workers).WaitAsync(TimeSpan.FromMinutes(2));
        }
        finally
        {
            await stop.CancelAsync();
            await collector;
        }
    }

    [Fact]
    public void A_database_of_a_second_libduckdb_copy_is_refused_instead_of_driven_by_the_wrong_library()
    {
        // Bind the extension to this process's own libduckdb first (a no-op if another test already did).
        using (var db = DuckDBDatabase.Open(null, Unsigned))
        using (var connection = db.Connect())
        {
            connection.Execute(LoadSql());
        }
        using var second = new SecondLibDuckDB(DuckDBNative.Source);
        var error = second.Execute(LoadSql());
        Assert.NotNull(error);
        Assert.Contains("another copy of the DuckDB library", error, StringComparison.Ordinal);
        Assert.Null(second.Execute("SELECT 42"));
    }

    [Fact]
    public void Without_allow_unsigned_extensions_DuckDB_refuses_the_file()
    {
        using var db = DuckDBDatabase.Open(null);
        using var connection = db.Connect();
        var e = Assert.Throws<DuckDBException>(() => connection.Execute(LoadSql()));
        Assert.Contains("signature is either missing or invalid", e.Message, StringComparison.Ordinal);
        Assert.Contains("allow_unsigned_extensions", e.Message, StringComparison.Ordinal);
        Assert.Throws<DuckDBException>(() => connection.QueryAll("SELECT * FROM p2p_info()"));
    }

    [Fact]
    public void The_footer_carries_DuckDBs_metadata()
    {
        var file = File.ReadAllBytes(fixture.ExtensionPath);
        Assert.Equal(0x7F, file[0]);
        Assert.Equal("ELF"u8.ToArray(), file[1..4]);
        var header = file.AsSpan(file.Length - ExtensionFooter.Size - ExtensionFooter.SectionHeader.Length, ExtensionFooter.SectionHeader.Length);
        Assert.True(header.SequenceEqual(ExtensionFooter.SectionHeader));
        Assert.Equal("4", ExtensionFooter.ReadField(file, 1));
        Assert.Equal("linux_amd64", ExtensionFooter.ReadField(file, 2));
        Assert.Equal("v1.2.0", ExtensionFooter.ReadField(file, 3));
        Assert.Equal($"v{ProtocolInfo.ExtensionVersion}", ExtensionFooter.ReadField(file, 4));
        Assert.Equal("C_STRUCT", ExtensionFooter.ReadField(file, 5));
        for (var f = 6; f <= 8; f++)
        {
            Assert.Equal("", ExtensionFooter.ReadField(file, f));
        }
        Assert.All(file[^ExtensionFooter.SignatureSize..], b => Assert.Equal(0, b));
    }

    [Fact]
    public void A_file_built_for_another_platform_is_refused_with_DuckDBs_platform_message()
    {
        var dir = Directory.CreateTempSubdirectory("duckton-wrong-platform-");
        try
        {
            var file = File.ReadAllBytes(fixture.ExtensionPath);
            ExtensionFooter.WriteField(file, 2, "linux_arm64");
            // Same file name: DuckDB derives the init symbol from it.
            var copy = Path.Combine(dir.FullName, "duckton.duckdb_extension");
            File.WriteAllBytes(copy, file);

            using var db = DuckDBDatabase.Open(null, Unsigned);
            using var connection = db.Connect();
            var e = Assert.Throws<DuckDBException>(() => connection.Execute(LoadSql(copy)));
            Assert.Contains("The file was built for the platform 'linux_arm64'", e.Message, StringComparison.Ordinal);
            Assert.Contains("we can only load extensions built for platform 'linux_amd64'", e.Message, StringComparison.Ordinal);
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }
}
