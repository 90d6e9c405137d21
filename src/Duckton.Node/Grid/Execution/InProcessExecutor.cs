using Duckton.Engine;

namespace Duckton.Node.Grid.Execution;

/// <summary>
/// Runs jobs in this process's locked-down engine: DuckDB's own <c>max_memory</c> is the only memory limit, and
/// memory a job used may stay resident. Used when sandboxing is off or this process cannot start worker processes
/// (hosting from inside the DuckDB extension).
/// </summary>
internal sealed class InProcessExecutor(EngineOptions options, string why) : IJobExecutor
{
    private readonly LockedDownEngine _engine = new(options);

    public string Isolation { get; } = $"in-process (DuckDB lock-down and max_memory only; {why})";

    public LocalInputs Inputs => _engine.Inputs;

    public Task<ExecutedJob> ExecuteAsync(string sql, CancellationToken cancellationToken) =>
        Task.Run(() => new ExecutedJob(_engine.Execute(sql, cancellationToken), null), CancellationToken.None);

    public void Dispose() => _engine.Dispose();
}
