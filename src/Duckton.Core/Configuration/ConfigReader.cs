using System.Collections.Immutable;

namespace Duckton.Core.Configuration;

/// <summary>Hands resolved values to the typed binders of <see cref="NodeConfig"/> and records which keys they read.</summary>
internal sealed class ConfigReader(IReadOnlyDictionary<string, ConfigValue> values)
{
    /// <summary>Every key read so far (a test checks that binding reads each catalogue key once).</summary>
    public List<string> Used { get; } = [];

    private ConfigValue Get(string key)
    {
        Used.Add(key);
        return values[key];
    }

    public bool Bool(string key) => Get(key).AsBool;
    public long Int(string key) => Get(key).AsInt;
    public double Float(string key) => Get(key).AsFloat;
    public string Text(string key) => Get(key).AsString;
    public ImmutableArray<string> List(string key) => Get(key).AsList;

    // Values were checked against the key's spellings when read, so these cannot fail.
    public T Enum<T>(string key)
        where T : struct, System.Enum => ConfigEnum.Parse<T>(Get(key).AsString);

    public ImmutableArray<T> EnumList<T>(string key)
        where T : struct, System.Enum => [.. Get(key).AsList.Select(ConfigEnum.Parse<T>)];

    public TimeSpan Duration(string key)
    {
        var amount = Get(key).AsInt;
        return ConfigCatalog.Get(key).Unit == DurationUnit.Milliseconds
            ? TimeSpan.FromMilliseconds(amount)
            : TimeSpan.FromSeconds(amount);
    }
}
