// A verified query and an offline certificate check.
//   dotnet run                                 -> runs locally (no grid): verified by construction, no certificate
//   dotnet run -- 127.0.0.1:9494 127.0.0.1:9495 -> joins those seeds (e.g. `duckton grid up --hosts 3`) and asks 3 hosts, quorum 2
using Duckton;

using var cancel = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) =>
{
    e.Cancel = true;
    cancel.Cancel(); // Ctrl-C interrupts the running query, locally or on its hosts
};

var configDirectory = Environment.GetEnvironmentVariable("DUCKTON_CONFIG_DIR") ?? Path.Combine(Path.GetTempPath(), "duckton-sample-console");
await using var node = new DucktonNode(new DucktonNodeOptions { ConfigDirectory = configDirectory });

var options = QueryOptions.Default;
if (args.Length > 0)
{
    var join = await node.JoinAsync(args, cancel.Token);
    Console.WriteLine($"joined: {join.LivePeers} live peer(s) ({join.Status})");
    options = new QueryOptions { Replicas = 3, Quorum = 2, Placement = QueryPlacement.Remote };
}

using var result = await node.QueryAsync("SELECT i AS n, i * i AS square FROM range(1, 6) t(i)", options, cancel.Token);
Console.WriteLine(string.Join(" | ", result.Columns.Select(c => $"{c.Name} {c.DuckDBType}")));
await foreach (var row in result.ReadRowsAsync(cancel.Token))
{
    Console.WriteLine($"{row.Get<long>("n")} -> {row.Get<long>("square")}");
}

var v = result.Verification;
Console.WriteLine($"verified={v.Verified} local={v.ExecutedLocally} agreement={v.Agreement}/{v.Quorum} hash={v.ResultHash}");
if (v.Certificate is { } certificate)
{
    // What a third party does with the certificate and the rows: no node needed.
    var check = CertificateVerifier.Verify(certificate, result, quorum: 2);
    Console.WriteLine($"certificate valid={check.IsValid} hosts={check.Hosts.Count} {check.Error}");
    return check.IsValid ? 0 : 1;
}
Console.WriteLine($"certificate none (local result); rows hash check={CertificateVerifier.ComputeResultHash(result) == v.ResultHash}");
return 0;
