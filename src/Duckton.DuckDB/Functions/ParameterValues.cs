using Duckton.DuckDB.Native;

namespace Duckton.DuckDB.Functions;

/// <summary>Reads bound parameter values (<c>duckdb_value</c>) into managed values and destroys them.</summary>
internal static unsafe class ParameterValues
{
    public static object? Read(nint value, TableFunctionParameter parameter)
    {
        var api = DuckDBNative.Api;
        try
        {
            if (value == 0 || api->duckdb_is_null_value(value) != 0)
            {
                return null;
            }
            switch (parameter.Kind)
            {
                case ParameterKind.Varchar:
                    return ReadString(value);
                case ParameterKind.BigInt:
                    return api->duckdb_get_int64(value);
                case ParameterKind.Double:
                    return api->duckdb_get_double(value);
                case ParameterKind.Boolean:
                    return api->duckdb_get_bool(value) != 0;
                case ParameterKind.VarcharList:
                {
                    var size = (int)api->duckdb_get_list_size(value);
                    var items = new List<string>(size);
                    for (var i = 0; i < size; i++)
                    {
                        var child = api->duckdb_get_list_child(value, (ulong)i);
                        try
                        {
                            // NULL items are dropped: a list of seeds or names has no use for them.
                            if (child != 0 && api->duckdb_is_null_value(child) == 0)
                            {
                                items.Add(ReadString(child));
                            }
                        }
                        finally
                        {
                            api->duckdb_destroy_value(&child);
                        }
                    }
                    return items;
                }
                default:
                    throw new ArgumentOutOfRangeException(nameof(parameter));
            }
        }
        finally
        {
            if (value != 0)
            {
                api->duckdb_destroy_value(&value);
            }
        }
    }

    private static string ReadString(nint value)
    {
        var api = DuckDBNative.Api;
        var s = api->duckdb_get_varchar(value);
        try
        {
            return Utf8.ToManaged(s) ?? "";
        }
        finally
        {
            api->duckdb_free(s);
        }
    }
}
