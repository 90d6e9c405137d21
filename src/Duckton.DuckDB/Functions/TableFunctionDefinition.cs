using Duckton.Core.Data;

namespace Duckton.DuckDB.Functions;

/// <summary>The SQL type of a table-function parameter.</summary>
public enum ParameterKind
{
    Varchar,
    BigInt,
    Double,
    Boolean,
    VarcharList,
}

/// <summary>A positional or named (<c>name =&gt; value</c>) parameter of a table function.</summary>
public sealed record TableFunctionParameter(string Name, ParameterKind Kind)
{
    internal DuckType DuckType => Kind switch
    {
        ParameterKind.Varchar => DuckType.Varchar,
        ParameterKind.BigInt => DuckType.BigInt,
        ParameterKind.Double => DuckType.Double,
        ParameterKind.Boolean => DuckType.Boolean,
        ParameterKind.VarcharList => DuckType.List(DuckType.Varchar),
        _ => throw new ArgumentOutOfRangeException(nameof(Kind)),
    };
}

/// <summary>
/// A DuckDB table function written once in managed code. <see cref="Bind"/> runs in DuckDB's bind phase and
/// returns the complete result; its schema becomes the function's output columns and its batches are scanned
/// out 2,048 rows at a time. Exceptions become SQL errors; none reaches native code.
/// </summary>
public abstract class TableFunctionDefinition
{
    public abstract string Name { get; }
    public virtual IReadOnlyList<TableFunctionParameter> Positional => [];
    public virtual IReadOnlyList<TableFunctionParameter> Named => [];

    /// <summary>
    /// True for a function whose <see cref="Bind"/> may run long (a query): it then runs on its own thread while DuckDB's
    /// thread watches the connection's interrupt flag, and <see cref="TableFunctionArguments.Cancellation"/> is cancelled
    /// when the client interrupts (see <see cref="TableFunctionRegistration"/>).
    /// </summary>
    public virtual bool Interruptible => false;

    /// <summary>Produces the function's rows. Throw <see cref="SqlFunctionException"/> (or any exception) to fail the statement.</summary>
    public abstract ResultSet Bind(TableFunctionArguments arguments);
}

/// <summary>A user-facing error of a table function: its message is shown as is.</summary>
public class SqlFunctionException : Exception
{
    public SqlFunctionException(string message) : base(message) { }
    public SqlFunctionException(string message, Exception inner) : base(message, inner) { }
    public SqlFunctionException() { }
}

/// <summary>The values a call passed. Named parameters that were not given are absent.</summary>
public sealed class TableFunctionArguments
{
    private readonly Dictionary<string, object?> _named;

    public TableFunctionArguments(IReadOnlyList<object?> positional, Dictionary<string, object?> named, CancellationToken cancellation = default)
    {
        Positional = positional;
        _named = named;
        Cancellation = cancellation;
    }

    /// <summary>Cancelled when the client interrupts the statement (only for <see cref="TableFunctionDefinition.Interruptible"/> functions).</summary>
    public CancellationToken Cancellation { get; }

    internal TableFunctionArguments WithCancellation(CancellationToken cancellation) => new(Positional, _named, cancellation);

    public IReadOnlyList<object?> Positional { get; }
    public IReadOnlyCollection<string> NamedGiven => _named.Keys;

    public bool Has(string name) => _named.ContainsKey(name);

    public object? this[string name] => _named.TryGetValue(name, out var v) ? v : null;

    public string? GetString(string name) => this[name] as string;
    public long? GetInt64(string name) => this[name] as long?;
    public double? GetDouble(string name) => this[name] as double?;
    public bool? GetBoolean(string name) => this[name] as bool?;
    public IReadOnlyList<string>? GetStringList(string name) => this[name] as IReadOnlyList<string>;
}
