using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Reflection;

namespace Duckton;

/// <summary>Converts a column value to the type a caller asks for (widening numbers, nullable types, text).</summary>
internal static class ValueConversion
{
    public static object? To(object? value, Type target)
    {
        if (value is null)
        {
            return null;
        }
        var type = Nullable.GetUnderlyingType(target) ?? target;
        if (type.IsInstanceOfType(value))
        {
            return value;
        }
        if (type == typeof(string))
        {
            return Convert.ToString(value, CultureInfo.InvariantCulture);
        }
        if (type.IsEnum && value is string name)
        {
            return Enum.Parse(type, name, ignoreCase: true);
        }
        if (type == typeof(DateTimeOffset) && value is DateTime dt)
        {
            return new DateTimeOffset(dt, TimeSpan.Zero);
        }
        if (type == typeof(DateTime) && value is DateTimeOffset dto)
        {
            return dto.UtcDateTime;
        }
        if (type == typeof(DateTime) && value is DateOnly d)
        {
            return d.ToDateTime(TimeOnly.MinValue, DateTimeKind.Utc);
        }
        if (value is Int128 or UInt128)
        {
            return Convert.ChangeType(value.ToString(), type, CultureInfo.InvariantCulture);
        }
        if (value is IConvertible)
        {
            return Convert.ChangeType(value, type, CultureInfo.InvariantCulture);
        }
        throw new InvalidCastException($"a {value.GetType().Name} value cannot be converted to {target.Name}");
    }
}

/// <summary>
/// Maps rows to <typeparamref name="T"/> by column name (case-insensitive): through the public constructor whose
/// parameters all name columns (positional records), else a parameterless constructor and settable properties.
/// Columns without a member are ignored; a member without a column keeps its default.
/// </summary>
internal sealed class RecordMapper<[DynamicallyAccessedMembers(DynamicallyAccessedMemberTypes.PublicConstructors | DynamicallyAccessedMemberTypes.PublicProperties)] T>
{
    private readonly ConstructorInfo _constructor;
    private readonly (int Ordinal, Type Type)[] _arguments;
    private readonly (int Ordinal, PropertyInfo Property)[] _properties;

    public RecordMapper(IReadOnlyList<DucktonColumn> columns)
    {
        var index = new ColumnIndex(columns);
        var constructors = typeof(T).GetConstructors(BindingFlags.Public | BindingFlags.Instance)
            .OrderByDescending(c => c.GetParameters().Length).ToList();
        var positional = constructors.FirstOrDefault(c => c.GetParameters().Length > 0 && c.GetParameters().All(p => p.Name is { } n && index.TryOrdinal(n, out _)));
        var chosen = positional ?? constructors.FirstOrDefault(c => c.GetParameters().Length == 0)
            ?? throw new InvalidOperationException($"{typeof(T).Name} needs a public constructor whose parameters are named after columns ({string.Join(", ", columns.Select(c => c.Name))}), or a parameterless one");
        _constructor = chosen;
        _arguments = [.. chosen.GetParameters().Select(p => (index.Ordinal(p.Name!), p.ParameterType))];
        var bound = chosen.GetParameters().Select(p => p.Name!).ToHashSet(StringComparer.OrdinalIgnoreCase);
        _properties = [.. typeof(T).GetProperties(BindingFlags.Public | BindingFlags.Instance)
            .Where(p => p.CanWrite && p.SetMethod is { IsPublic: true } && !bound.Contains(p.Name) && index.TryOrdinal(p.Name, out _))
            .Select(p => (index.Ordinal(p.Name), p))];
    }

    public T Map(DucktonRow row)
    {
        var args = new object?[_arguments.Length];
        for (var i = 0; i < args.Length; i++)
        {
            args[i] = Convert(row[_arguments[i].Ordinal], _arguments[i].Type, row.Columns[_arguments[i].Ordinal].Name);
        }
        var item = (T)_constructor.Invoke(args);
        foreach (var (ordinal, property) in _properties)
        {
            property.SetValue(item, Convert(row[ordinal], property.PropertyType, property.Name));
        }
        return item;
    }

    private static object? Convert(object? value, Type target, string column)
    {
        try
        {
            return value is null
                ? (target.IsValueType && Nullable.GetUnderlyingType(target) is null ? Activator.CreateInstance(target) : null)
                : ValueConversion.To(value, target);
        }
        catch (Exception e) when (e is InvalidCastException or FormatException or OverflowException)
        {
            throw new InvalidCastException($"column '{column}' ({value?.GetType().Name}) cannot be mapped to {typeof(T).Name}'s {target.Name} member: {e.Message}", e);
        }
    }
}

/// <summary>A query's rows mapped to <typeparamref name="T"/>, with how they were verified.</summary>
/// <typeparam name="T">The record each row becomes.</typeparam>
public sealed class QueryResult<T>
{
    internal QueryResult(IReadOnlyList<T> items, IReadOnlyList<DucktonColumn> columns, QueryVerification verification)
    {
        Items = items;
        Columns = columns;
        Verification = verification;
    }

    /// <summary>The rows, in order.</summary>
    public IReadOnlyList<T> Items { get; }

    /// <summary>The result's columns.</summary>
    public IReadOnlyList<DucktonColumn> Columns { get; }

    /// <summary>How the result was computed and verified, with its certificate.</summary>
    public QueryVerification Verification { get; }
}
