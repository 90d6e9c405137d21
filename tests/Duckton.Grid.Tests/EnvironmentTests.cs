using System.Diagnostics;

namespace Duckton.Grid.Tests;

/// <summary>
/// Three real host processes in different environments: UTC and C locale; New York and Thai (whose ICU default is the
/// Buddhist calendar); Kolkata with German and Japanese locale variables. Each job runs under the fixed job settings
/// (time zone UTC, Gregorian calendar, binary collation), so all three return the same result and reach quorum 3.
/// </summary>
public sealed class EnvironmentFixture : IDisposable
{
    public EnvironmentFixture()
    {
        Root = Directory.CreateTempSubdirectory("duckton-env-tests-").FullName;
        Requester = new Requester(Root, "requester");
        H1 = HostProcess.Start(Root, "utc", new Dictionary<string, string> { ["TZ"] = "UTC", ["LANG"] = "C.UTF-8" });
        var seed = new[] { "--seed", H1.Address };
        var started = new[]
        {
            Task.Run(() => HostProcess.Start(Root, "new-york", new Dictionary<string, string> { ["TZ"] = "America/New_York", ["LANG"] = "th_TH.UTF-8" }, seed)),
            Task.Run(() => HostProcess.Start(Root, "kolkata", new Dictionary<string, string> { ["TZ"] = "Asia/Kolkata", ["LANG"] = "ja_JP.UTF-8", ["LC_ALL"] = "de_DE.UTF-8" }, seed)),
        };
        H2 = started[0].GetAwaiter().GetResult();
        H3 = started[1].GetAwaiter().GetResult();
        Requester.JoinAndLearn(H1.Address, 3);
    }

    public string Root { get; }
    public Requester Requester { get; }
    public HostProcess H1 { get; }
    public HostProcess H2 { get; }
    public HostProcess H3 { get; }

    public void Dispose() => FixtureTeardown.Run(Requester, [H1, H2, H3], Root);
}

public sealed class EnvironmentTests(EnvironmentFixture grid) : IClassFixture<EnvironmentFixture>
{
    /// <summary>Queries whose answer depends on the time zone, the calendar or the collation, with their UTC/Gregorian/binary answer.</summary>
    public static TheoryData<string, string> Queries => new()
    {
        { "SELECT epoch_us('2024-01-01 12:00'::TIMESTAMPTZ)::VARCHAR AS v", "1704110400000000" },
        { "SELECT strftime('2024-01-01 12:00'::TIMESTAMPTZ, '%Y-%m-%d %H:%M %Z %A %B') AS v", "2024-01-01 12:00 UTC Monday January" },
        { "SELECT (date_part('year', '2024-01-01 02:00'::TIMESTAMPTZ) || '/' || date_part('hour', '2024-01-01 02:00'::TIMESTAMPTZ) || '/' || date_part('doy', '2024-01-01 02:00'::TIMESTAMPTZ)) AS v", "2024/2/1" },
        { "SELECT date_trunc('day', '2024-01-01 02:00'::TIMESTAMPTZ)::VARCHAR AS v", "2024-01-01 00:00:00+00" },
        { "SELECT ('2024-03-10 12:00'::TIMESTAMP::TIMESTAMPTZ)::VARCHAR AS v", "2024-03-10 12:00:00+00" },
        { "SELECT current_setting('TimeZone') || ' ' || current_setting('Calendar') AS v", "UTC gregorian" },
        { "SELECT string_agg(s, ',' ORDER BY s) AS v FROM (VALUES ('b'), ('B'), ('a'), ('ä'), ('A')) t(s)", "A,B,a,b,ä" },
    };

    [Theory]
    [MemberData(nameof(Queries))]
    public void Hosts_in_different_time_zones_and_locales_agree(string sql, string expected)
    {
        var nodes = GridFixture.Nodes(grid.H1, grid.H2, grid.H3);
        var literal = "'" + sql.Replace("'", "''", StringComparison.Ordinal) + "'";
        var options = $", replicas => 3, quorum => 3, prefer => 'remote', nodes => {nodes}";
        var meta = grid.Requester.Meta(literal, options);
        Assert.True(meta["verified"] == "true", $"not verified: {string.Join("; ", meta.Select(kv => kv.Key + "=" + kv.Value))}");
        Assert.Equal("3", meta["agreement"]);
        Assert.Equal("false", meta["executed_locally"]);
        var rows = grid.Requester.Rows($"SELECT v FROM p2p_query({literal}{options})");
        Assert.Equal(expected, rows.Single()[0]);
    }

    /// <summary>GEOMETRY, an untyped NULL and repeated names through three real hosts: verified, and as DuckDB returns them.</summary>
    [Fact]
    public void Geometry_null_type_and_repeated_names_cross_the_grid()
    {
        const string Sql = "SELECT 'LINESTRING (0 0, 1.5 2)'::GEOMETRY AS g, NULL AS n, 1 AS a, 2 AS a";
        var literal = "'" + Sql.Replace("'", "''", StringComparison.Ordinal) + "'";
        var options = $", replicas => 3, quorum => 3, prefer => 'remote', nodes => {GridFixture.Nodes(grid.H1, grid.H2, grid.H3)}";
        var meta = grid.Requester.Meta(literal, options);
        Assert.True(meta["verified"] == "true", $"not verified: {string.Join("; ", meta.Select(kv => kv.Key + "=" + kv.Value))}");
        var rows = grid.Requester.Rows($"SELECT g::VARCHAR, typeof(g), typeof(n), a::VARCHAR, a_1::VARCHAR, (g = 'LINESTRING (0 0, 1.5 2)'::GEOMETRY)::VARCHAR FROM p2p_query({literal}{options})");
        Assert.Equal(new string?[] { "LINESTRING (0 0, 1.5 2)", "GEOMETRY", "\"NULL\"", "1", "2", "true" }, rows.Single());
    }

    /// <summary>A job cannot move itself to another time zone or calendar: the settings are locked.</summary>
    [Fact]
    public void A_job_cannot_change_the_fixed_settings()
    {
        var meta = grid.Requester.Meta("'SET TimeZone=''America/New_York''; SELECT 1 AS v'", $", replicas => 1, quorum => 1, prefer => 'remote', nodes => {GridFixture.Nodes(grid.H2)}");
        // Refused either by DuckDB's locked configuration or, on a host whose jobs have a spill directory on disk, before
        // DuckDB sees it (only read-only statements run where files are reachable).
        Assert.True(meta["error"] is { } e && (e.Contains("the configuration has been locked", StringComparison.Ordinal)
            || e.Contains("SET statements are not allowed", StringComparison.Ordinal)), meta["error"]);
    }

    /// <summary>The requester's own environment does not change a query it runs locally: a real <c>duckton sql</c> process in New York with a Thai locale.</summary>
    [Fact]
    public async Task A_local_query_ignores_the_requesters_time_zone_and_locale()
    {
        var dir = Path.Combine(grid.Root, "cli-local-" + Guid.NewGuid().ToString("N")[..6]);
        Directory.CreateDirectory(dir);
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        const string Sql = "SELECT epoch_us('2024-01-01 12:00'::TIMESTAMPTZ) AS e, date_part('year', '2024-01-01 02:00'::TIMESTAMPTZ) AS y, strftime('2024-01-01 12:00'::TIMESTAMPTZ, '%H:%M %Z') AS s";
        foreach (var a in new[]
        {
            Path.Combine(AppContext.BaseDirectory, "duckton.dll"), "sql", "--config-dir", dir, "--format", "csv",
            "-c", $"SELECT * FROM p2p_query('{Sql.Replace("'", "''", StringComparison.Ordinal)}', prefer => 'local')",
            "-c", $"SELECT 'local=' || value AS v FROM p2p_query_meta('{Sql.Replace("'", "''", StringComparison.Ordinal)}', prefer => 'local') WHERE key = 'executed_locally'",
        })
        {
            psi.ArgumentList.Add(a);
        }
        psi.Environment["P2P_CONFIG_DIR"] = dir;
        psi.Environment["TZ"] = "America/New_York";
        psi.Environment["LANG"] = "th_TH.UTF-8";
        using var cli = Process.Start(psi)!;
        var stderr = cli.StandardError.ReadToEndAsync();
        var stdout = await cli.StandardOutput.ReadToEndAsync();
        Assert.True(cli.WaitForExit(TimeSpan.FromSeconds(120)), "duckton sql did not exit");
        Assert.True(cli.ExitCode == 0, $"exit {cli.ExitCode}: {await stderr}");
        var lines = stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        Assert.Contains("1704110400000000,2024,12:00 UTC", lines);
        Assert.Contains("local=true", lines);
    }
}
