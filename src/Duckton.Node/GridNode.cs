using System.Diagnostics;
using System.Security.Cryptography;
using Duckton.Core.Data;
using Duckton.Engine;

namespace Duckton.Node;

/// <summary>Settings a <see cref="GridNode"/> is built with.</summary>
public sealed record GridNodeOptions
{
    /// <summary>Where the node keeps its keys, configuration and stores.</summary>
    public string? ConfigDirectory { get; init; }
    public EngineOptions Engine { get; init; } = EngineOptions.Default;
    public TimeProvider Time { get; init; } = TimeProvider.System;
}

/// <summary>
/// The node: plans each query (local or grid), runs it and reports how it was verified. With no usable peers a
/// query runs in the locked-down local engine.
/// </summary>
public sealed class GridNode : IDisposable
{
    private readonly LockedDownEngine _engine;
    private readonly GridNodeOptions _options;

    public GridNode(GridNodeOptions? options = null)
    {
        _options = options ?? new GridNodeOptions();
        _engine = new LockedDownEngine(_options.Engine);
    }

    /// <summary>This node's id as shown in query metadata.</summary>
    public string NodeId { get; init; } = "local";

    public GridNodeOptions Options => _options;

    /// <summary>
    /// Runs <paramref name="sql"/> and returns its verified result. Throws <see cref="QueryFailedException"/>
    /// (carrying the metadata) when the query fails.
    /// </summary>
    /// <param name="computeHash">Also compute the canonical result hash for the metadata (costs one pass over the rows).</param>
    public QueryOutcome Query(string sql, QueryOverrides? overrides = null, bool computeHash = false, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(sql);
        overrides ??= QueryOverrides.None;
        var jobId = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16));
        var started = Stopwatch.GetTimestamp();
        try
        {
            overrides.Validate();
            if (string.IsNullOrWhiteSpace(sql))
            {
                throw new ArgumentException("the SQL text is empty; pass a query, e.g. p2p_query('SELECT 42 AS answer')");
            }
            if (overrides.Prefer == PreferMode.Remote)
            {
                throw new InvalidOperationException("prefer => 'remote' needs peers, and this node knows none; join a grid with p2p_join(bootstrap => [...]) or use prefer => 'local'");
            }
            using var timeout = overrides.TimeoutMs is { } ms ? new CancellationTokenSource(TimeSpan.FromMilliseconds(ms), _options.Time) : null;
            using var linked = timeout is null ? null : CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timeout.Token);
            var result = _engine.Execute(sql, linked?.Token ?? cancellationToken);
            var meta = new QueryMeta
            {
                JobId = jobId,
                ExecutedLocally = true,
                Verified = true,
                Agreement = 1,
                Quorum = 0,
                Winner = NodeId,
                Participants = 1,
                Receipts = 0,
                AgreedHash = computeHash ? ResultHashing.Compute(result) : null,
                ResultRows = result.RowCount,
                LatencyMs = Stopwatch.GetElapsedTime(started).TotalMilliseconds,
                ObservedResultBytes = BatchSize.Estimate(result),
            };
            return new QueryOutcome(result, meta);
        }
        catch (Exception e) when (e is not QueryFailedException)
        {
            var message = e is OperationCanceledException && overrides.TimeoutMs is { } t && !cancellationToken.IsCancellationRequested
                ? $"the query exceeded timeout_ms => {t}"
                : e.Message;
            var meta = new QueryMeta
            {
                JobId = jobId,
                ExecutedLocally = true,
                Verified = false,
                Winner = null,
                LatencyMs = 0,
                Error = message,
            };
            throw new QueryFailedException(message, meta, e);
        }
    }

    public void Dispose() => _engine.Dispose();
}
