// A minimal web API answering from the grid.
//   dotnet run --urls http://127.0.0.1:5080 [-- --Duckton:Seed 127.0.0.1:9494]
//   curl 'http://127.0.0.1:5080/squares?upTo=5'
// The request's cancellation (client gone) cancels the query, locally or on its hosts.
using Duckton;
using Duckton.Hosting;

var builder = WebApplication.CreateBuilder(args);
var section = builder.Configuration.GetSection("Duckton");
builder.Services.AddDuckton(o =>
{
    o.Node = new DucktonNodeOptions { ConfigDirectory = section["ConfigDirectory"] ?? Path.Combine(Path.GetTempPath(), "duckton-sample-web") };
    if (section["Seed"] is { Length: > 0 } seed)
    {
        o.Bootstrap.Add(seed);
    }
});
var app = builder.Build();

app.MapGet("/squares", async (int upTo, DucktonNode node, CancellationToken cancellationToken) =>
{
    if (upTo is < 1 or > 10_000)
    {
        return Results.BadRequest("upTo must be 1..10000");
    }
    try
    {
        // The number goes in as an integer literal; never build SQL from unchecked text.
        var result = await node.QueryAsync<SquareRow>($"SELECT i AS n, i * i AS square FROM range(1, {upTo + 1}) t(i) ORDER BY i", cancellationToken: cancellationToken);
        var v = result.Verification;
        return Results.Ok(new { rows = result.Items, verified = v.Verified, local = v.ExecutedLocally, agreement = v.Agreement, quorum = v.Quorum, resultHash = v.ResultHash, certificate = v.Certificate });
    }
    catch (QuorumNotReachedException e)
    {
        return Results.Problem(e.Message, statusCode: StatusCodes.Status503ServiceUnavailable);
    }
});

await app.RunAsync();

/// <summary>One row of the answer.</summary>
internal sealed record SquareRow(long N, long Square);
