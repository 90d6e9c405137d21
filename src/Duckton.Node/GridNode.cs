using System.Diagnostics;
using System.Security.Cryptography;
using Duckton.Core.Configuration;
using Duckton.Core.Data;
using Duckton.Engine;

namespace Duckton.Node;

/// <summary>Settings a <see cref="GridNode"/> is built with.</summary>
public sealed record GridNodeOptions
{
    /// <summary>Where the node keeps its keys, configuration and stores.</summary>
    public string? ConfigDirectory { get; init; }

    /// <summary>The layered configuration; by default the store of <see cref="ConfigDirectory"/>.</summary>
    public ConfigStore? Config { get; init; }
    public TimeProvider Time { get; init; } = TimeProvider.System;
}

/// <summary>
/// The node: plans each query (local or grid), runs it and reports how it was verified. With no usable peers a
/// query runs in the locked-down local engine.
/// </summary>
public sealed class GridNode : IDisposable
{
    private readonly GridNodeOptions _options;
    private readonly Lock _engineGate = new();
    private LockedDownEngine? _engine;

    public GridNode(GridNodeOptions? options = null)
    {
        _options = options ?? new GridNodeOptions();
        Config = _options.Config ?? new ConfigStore(ConfigDirectory.Resolve(_options.ConfigDirectory));
        _ = EngineFor(Config.Effective().Config);
    }

    /// <summary>The node's layered configuration (defaults, file, environment, runtime SQL layer).</summary>
    public ConfigStore Config { get; }

    /// <summary>The local engine for the current limits; rebuilt when they change (e.g. after <c>p2p_set</c>).</summary>
    private LockedDownEngine EngineFor(NodeConfig config)
    {
        var wanted = LocalEngineOptions(config);
        lock (_engineGate)
        {
            if (_engine is null || _engine.Options != wanted)
            {
                _engine?.Dispose();
                _engine = new LockedDownEngine(wanted);
            }
            return _engine;
        }
    }

    /// <summary>Local queries get <c>planner.ram_fraction</c> of the machine's memory and every core.</summary>
    private static EngineOptions LocalEngineOptions(NodeConfig config)
    {
        var ram = GC.GetGCMemoryInfo().TotalAvailableMemoryBytes;
        return EngineOptions.Default with
        {
            MemoryLimitBytes = Math.Max(64L << 20, (long)(ram * config.Planner.RamFraction)),
            WarmInstances = Math.Clamp(config.Planner.MaxConcurrentLocalJobs, 1, 4),
        };
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
            var config = Config.Effective(overrides.ToConfigLayer()).Config;
            if (string.IsNullOrWhiteSpace(sql))
            {
                throw new ArgumentException("the SQL text is empty; pass a query, e.g. p2p_query('SELECT 42 AS answer')");
            }
            if (config.Planner.Prefer == PlannerPreference.Remote)
            {
                throw new InvalidOperationException("prefer => 'remote' needs peers, and this node knows none; join a grid with p2p_join(bootstrap => [...]) or use prefer => 'local'");
            }
            if (!config.Planner.LocalExecutionEnabled)
            {
                throw new InvalidOperationException("local execution is disabled (planner.local_execution_enabled = false) and this node knows no peers; enable it with p2p_planner(local_execution => true) or join a grid");
            }
            using var timeout = overrides.TimeoutMs is { } ms ? new CancellationTokenSource(TimeSpan.FromMilliseconds(ms), _options.Time) : null;
            using var linked = timeout is null ? null : CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timeout.Token);
            var result = EngineFor(config).Execute(sql, linked?.Token ?? cancellationToken);
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

    public void Dispose()
    {
        lock (_engineGate)
        {
            _engine?.Dispose();
        }
    }
}
