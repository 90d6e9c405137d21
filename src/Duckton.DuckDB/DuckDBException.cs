namespace Duckton.DuckDB;

/// <summary>An error DuckDB reported, with its message verbatim (e.g. <c>Catalog Error: Table ... does not exist!</c>).</summary>
public class DuckDBException : Exception
{
    public DuckDBException(string message) : base(message) { }
    public DuckDBException(string message, Exception inner) : base(message, inner) { }
    public DuckDBException() { }
}
