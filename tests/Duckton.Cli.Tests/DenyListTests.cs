namespace Duckton.Cli.Tests;

/// <summary>The deny-list through the CLI, persisted across processes.</summary>
public class DenyListTests : IDisposable
{
    private readonly string _configDir = Directory.CreateTempSubdirectory("duckton-deny-").FullName;
    private static readonly string Peer = "b3:" + new string('c', 64);

    public void Dispose() => Directory.Delete(_configDir, recursive: true);

    private CliRunner.Result Sql(params string[] statements)
    {
        var args = new List<string> { "sql", "--config-dir", _configDir, "--format", "csv" };
        foreach (var s in statements)
        {
            args.Add("-c");
            args.Add(s);
        }
        return CliRunner.Duckton(null, [.. args]);
    }

    [Fact]
    public void Blocks_persist_across_processes_and_unblock_removes_them()
    {
        var r = Sql($"SELECT status, id, kind FROM p2p_block(id => '{Peer}', reason => 'returned wrong rows')", "SELECT id FROM p2p_block(id => 'EQwallet123', reason => 'spam')");
        Assert.True(r.ExitCode == 0, r.Stderr);
        Assert.Contains($"status,id,kind\nblocked,{Peer},node_id\n", r.Stdout);
        r = Sql("SELECT id, kind, reason, source, blocked_at > now() - INTERVAL 10 MINUTE AS recent FROM p2p_blocklist() ORDER BY id");
        Assert.Contains($"{Peer},node_id,returned wrong rows,manual,true\n", r.Stdout);
        Assert.Contains("EQwallet123,wallet,spam,manual,true\n", r.Stdout);
        r = Sql($"SELECT status FROM p2p_unblock(id => '{Peer}')", $"SELECT status FROM p2p_unblock(id => '{Peer}')", "SELECT count(*) AS n FROM p2p_blocklist()");
        Assert.Equal("status\nunblocked\nstatus\nnot_found\nn\n1\n", r.Stdout);
    }

    [Fact]
    public void Malformed_ids_and_kinds_are_refused()
    {
        var r = Sql("SELECT * FROM p2p_block(id => 'b3:xyz')");
        Assert.Equal(1, r.ExitCode);
        Assert.Contains("not a node id", r.Stderr);
        r = Sql("SELECT * FROM p2p_block(id => 'x', kind => 'planet')");
        Assert.Contains("kind => 'planet'", r.Stderr);
        r = Sql("SELECT * FROM p2p_block()");
        Assert.Contains("give the node id or wallet", r.Stderr);
    }
}
