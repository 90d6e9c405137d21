using System.Runtime.CompilerServices;
using Duckton.Core.Data;

namespace Duckton;

/// <summary>One column of a result: its name, its DuckDB type and the .NET type its values take.</summary>
/// <param name="Ordinal">The column's position, from 0.</param>
/// <param name="Name">The column's name, as DuckDB names it.</param>
/// <param name="DuckDBType">The DuckDB type, as DuckDB spells it (<c>INTEGER</c>, <c>DECIMAL(4,2)</c>, <c>INTEGER[]</c>...).</param>
/// <param name="ClrType">The type of the column's non-null values (<see cref="string"/> for types without a .NET counterpart).</param>
public sealed record DucktonColumn(int Ordinal, string Name, string DuckDBType, Type ClrType);

/// <summary>How a query ran and was verified: the rows of SQL's <c>p2p_query_meta</c>.</summary>
public sealed record QueryVerification
{
    /// <summary>The job's id (hex).</summary>
    public string JobId { get; init; } = "";

    /// <summary>True when the query ran in this process's locked-down DuckDB, not on the grid.</summary>
    public bool ExecutedLocally { get; init; }

    /// <summary>
    /// True when the result is verified: computed locally, or accepted because <see cref="Quorum"/> hosts committed the
    /// same result hash.
    /// </summary>
    public bool Verified { get; init; }

    /// <summary>Hosts whose commits agreed with the accepted result.</summary>
    public int Agreement { get; init; }

    /// <summary>The agreement the result needed (0 locally).</summary>
    public int Quorum { get; init; }

    /// <summary>The node whose rows were returned.</summary>
    public string? Winner { get; init; }

    /// <summary>Hosts that ran the query.</summary>
    public int Participants { get; init; }

    /// <summary>Signed receipts this query produced.</summary>
    public int Receipts { get; init; }

    /// <summary>Committing hosts below the trust floor (vetted newcomers).</summary>
    public int Probationary { get; init; }

    /// <summary>Newcomers that ran the query as uncounted shadow replicas.</summary>
    public int ShadowReplicas { get; init; }

    /// <summary>The canonical BLAKE3 hash of the result (lowercase hex): what hosts commit and certificates state.</summary>
    public string? ResultHash { get; init; }

    /// <summary>The agreed fingerprint of the query's shared input files (hex); null when it reads none.</summary>
    public string? InputFingerprint { get; init; }

    /// <summary>Rows in the result.</summary>
    public long RowCount { get; init; }

    /// <summary>The query's wall-clock time.</summary>
    public TimeSpan Latency { get; init; }

    /// <summary>
    /// The agreeing hosts' signed commits (<c>dcc2:</c>...), for a remote result; anyone can check it offline with
    /// <see cref="CertificateVerifier"/>. Null for a local result.
    /// </summary>
    public string? Certificate { get; init; }

    /// <summary>Why a grid result is not verified (non-deterministic SQL, fast mode); null otherwise.</summary>
    public string? Unverifiable { get; init; }

    /// <summary>Hosts whose answers were rejected, with the reason; null when none.</summary>
    public string? Rejected { get; init; }

    /// <summary>The error of a failed query; null on success.</summary>
    public string? Error { get; init; }
}

/// <summary>
/// A verified query result: typed columns, the rows (as records or as column batches) and how they were verified.
/// Dispose it to release a large result's spill file.
/// </summary>
public sealed class QueryResult : IDisposable
{
    private readonly ResultSet _result;
    private readonly Func<Func<CancellationToken, ResultBatch>, CancellationToken, Task<ResultBatch>> _offload;
    private int _disposed;

    internal QueryResult(ResultSet result, QueryVerification verification, Func<Func<CancellationToken, ResultBatch>, CancellationToken, Task<ResultBatch>> offload)
    {
        _result = result;
        _offload = offload;
        Verification = verification;
        Columns = [.. result.Schema.Names.Select((n, i) => new DucktonColumn(i, n, result.Schema.Types[i].ToString(), ValueReader.ClrType(result.Schema.Types[i])))];
    }

    internal ResultSet Raw => _result;

    /// <summary>The columns, in order.</summary>
    public IReadOnlyList<DucktonColumn> Columns { get; }

    /// <summary>How the result was computed and verified, with its certificate.</summary>
    public QueryVerification Verification { get; }

    /// <summary>The number of rows.</summary>
    public long RowCount => _result.RowCount;

    /// <summary>The rows, one record each, read batch by batch (a spilled batch is read off the caller's thread).</summary>
    public async IAsyncEnumerable<DucktonRow> ReadRowsAsync([EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var index = new ColumnIndex(Columns);
        await foreach (var batch in ReadBatchesAsync(cancellationToken).ConfigureAwait(false))
        {
            for (var r = 0; r < batch.RowCount; r++)
            {
                cancellationToken.ThrowIfCancellationRequested();
                yield return batch.Row(r, index);
            }
        }
    }

    /// <summary>The rows as column batches (DuckDB's chunks, up to 2048 rows each), in order.</summary>
    public async IAsyncEnumerable<ColumnBatch> ReadBatchesAsync([EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        var batches = _result.Batches;
        var spilled = batches is SpooledBatches;
        for (var i = 0; i < batches.Count; i++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var index = i;
            // A spilled batch is a file read: it runs on the node's I/O threads; an in-memory one is just there.
            var batch = spilled ? await _offload(_ => batches[index], cancellationToken).ConfigureAwait(false) : batches[i];
            yield return new ColumnBatch(Columns, batch);
        }
    }

    /// <summary>Every row, materialised. Convenient for small results.</summary>
    public async Task<IReadOnlyList<DucktonRow>> ToListAsync(CancellationToken cancellationToken = default)
    {
        var rows = new List<DucktonRow>((int)Math.Min(RowCount, 1 << 20));
        await foreach (var row in ReadRowsAsync(cancellationToken).ConfigureAwait(false))
        {
            rows.Add(row);
        }
        return rows;
    }

    /// <summary>Releases the result (deletes a spill file).</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 0)
        {
            _result.Dispose();
        }
    }
}

/// <summary>Column names to ordinals, shared by the rows of one result.</summary>
internal sealed class ColumnIndex
{
    private readonly Dictionary<string, int> _byName = new(StringComparer.OrdinalIgnoreCase);

    public ColumnIndex(IReadOnlyList<DucktonColumn> columns)
    {
        Columns = columns;
        foreach (var c in columns)
        {
            _byName.TryAdd(c.Name, c.Ordinal); // the first of two names equal ignoring case wins, as in DuckDB
        }
    }

    public IReadOnlyList<DucktonColumn> Columns { get; }

    public int Ordinal(string name) => _byName.TryGetValue(name, out var i) ? i : throw new KeyNotFoundException($"the result has no column '{name}' (columns: {string.Join(", ", Columns.Select(c => c.Name))})");

    public bool TryOrdinal(string name, out int ordinal) => _byName.TryGetValue(name, out ordinal);
}

/// <summary>A chunk of rows, column by column.</summary>
public sealed class ColumnBatch
{
    private readonly ResultBatch _batch;
    private readonly object?[]?[] _columns;

    internal ColumnBatch(IReadOnlyList<DucktonColumn> columns, ResultBatch batch)
    {
        Columns = columns;
        _batch = batch;
        _columns = new object?[]?[columns.Count];
    }

    /// <summary>The columns, in order.</summary>
    public IReadOnlyList<DucktonColumn> Columns { get; }

    /// <summary>Rows in this batch.</summary>
    public int RowCount => _batch.RowCount;

    /// <summary>The values of column <paramref name="ordinal"/> (null for SQL NULL), one per row.</summary>
    public IReadOnlyList<object?> GetColumn(int ordinal)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(ordinal);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(ordinal, Columns.Count);
        return _columns[ordinal] ??= Read(ordinal);
    }

    /// <summary>The values of the column named <paramref name="name"/> (case-insensitive).</summary>
    public IReadOnlyList<object?> GetColumn(string name) => GetColumn(new ColumnIndex(Columns).Ordinal(name));

    /// <summary>The values of column <paramref name="ordinal"/> as <typeparamref name="T"/> (SQL NULL as <c>default</c>).</summary>
    public T?[] GetColumn<T>(int ordinal) => [.. GetColumn(ordinal).Select(v => v is null ? default : (T)v)];

    /// <summary>DuckDB's text of one value (<c>CAST(x AS VARCHAR)</c>), or null for SQL NULL.</summary>
    public string? GetText(int ordinal, int row) => ValueFormatter.Format(_batch.Columns[ordinal], row);

    private object?[] Read(int ordinal)
    {
        var vector = _batch.Columns[ordinal];
        var values = new object?[_batch.RowCount];
        for (var r = 0; r < values.Length; r++)
        {
            values[r] = ValueReader.Read(vector, r);
        }
        return values;
    }

    internal DucktonRow Row(int row, ColumnIndex index)
    {
        var values = new object?[Columns.Count];
        for (var c = 0; c < values.Length; c++)
        {
            values[c] = _columns[c] is { } column ? column[row] : ValueReader.Read(_batch.Columns[c], row);
        }
        return new DucktonRow(index, values);
    }
}

/// <summary>One row of a result: values by ordinal or by column name.</summary>
public sealed class DucktonRow
{
    private readonly ColumnIndex _index;
    private readonly object?[] _values;

    internal DucktonRow(ColumnIndex index, object?[] values)
    {
        _index = index;
        _values = values;
    }

    /// <summary>The columns, in order.</summary>
    public IReadOnlyList<DucktonColumn> Columns => _index.Columns;

    /// <summary>The value of column <paramref name="ordinal"/>; null for SQL NULL.</summary>
    public object? this[int ordinal] => _values[ordinal];

    /// <summary>The value of the column named <paramref name="name"/> (case-insensitive); null for SQL NULL.</summary>
    public object? this[string name] => _values[_index.Ordinal(name)];

    /// <summary>The value of column <paramref name="ordinal"/> as <typeparamref name="T"/>; SQL NULL as <c>default</c>.</summary>
    public T? Get<T>(int ordinal) => _values[ordinal] is { } v ? (T)ValueConversion.To(v, typeof(T))! : default;

    /// <summary>The value of the column named <paramref name="name"/> as <typeparamref name="T"/>; SQL NULL as <c>default</c>.</summary>
    public T? Get<T>(string name) => Get<T>(_index.Ordinal(name));

    /// <summary>True when the value of column <paramref name="ordinal"/> is SQL NULL.</summary>
    public bool IsNull(int ordinal) => _values[ordinal] is null;

    /// <summary>Every value, in column order.</summary>
    public IReadOnlyList<object?> Values => _values;

    /// <summary>The row as <c>name=value</c> pairs.</summary>
    public override string ToString() => string.Join(", ", Columns.Select(c => $"{c.Name}={_values[c.Ordinal] ?? "NULL"}"));
}
