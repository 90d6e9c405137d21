using System.Globalization;
using System.Text;

namespace Duckton.Core.Configuration;

/// <summary>
/// Renders the typed configuration (<c>NodeConfig.g.cs</c>: one record per section, one property per key, and the
/// binders) from the catalogue, so a key is written once, in <c>ConfigCatalog.Keys.cs</c>. A test compares the file
/// with this rendering and rewrites it under <c>DUCKTON_REGENERATE_DOCS=1</c>, as it does for docs/CONFIGURATION.md.
/// </summary>
/// <remarks>
/// Names follow the keys: a section <c>a.b</c> is the record <c>ABConfig</c>, a key <c>x_y</c> the property <c>XY</c>
/// (a duration key drops its <c>_ms</c>/<c>_secs</c> suffix, its value being a <see cref="TimeSpan"/>); an integer key
/// whose range fits is an <see cref="int"/>. The exceptions are listed below and on the keys themselves
/// (<see cref="ConfigKey.PropertyOverride"/>).
/// </remarks>
internal static class NodeConfigSource
{
    /// <summary>Section segments whose PascalCase is not the plain one.</summary>
    private static readonly Dictionary<string, string> s_segmentNames = new(StringComparer.Ordinal) { ["antiabuse"] = "AntiAbuse" };

    /// <summary>Sibling sections of one shape that share a record: parent, instances, placeholder, record prefix.</summary>
    private static readonly (string Parent, string[] Instances, string Placeholder, string RecordPrefix)[] s_shared =
        [("economics", ["testnet", "mainnet", "local"], "network", "Ton")];

    private sealed class Section(string path)
    {
        public string Path { get; } = path;
        public List<ConfigKey> Keys { get; } = [];
        public List<Section> Children { get; } = [];
    }

    /// <summary>The C# source of <c>NodeConfig.g.cs</c>.</summary>
    public static string Generate()
    {
        var root = new Section("");
        var byPath = new Dictionary<string, Section>(StringComparer.Ordinal) { [""] = root };
        foreach (var key in ConfigCatalog.Keys)
        {
            SectionOf(key.Key[..key.Key.LastIndexOf('.')], byPath).Keys.Add(key);
        }
        var sb = new StringBuilder();
        sb.Append("// Generated from the key catalogue (ConfigCatalog.Keys.cs) by NodeConfigSource: do not edit.\n")
          .Append("// After changing a key: DUCKTON_REGENERATE_DOCS=1 dotnet test tests/Duckton.Core.Tests --filter ConfigDocsTests\n")
          .Append("#nullable enable\n")
          .Append("using System.Collections.Immutable;\n\n")
          .Append("namespace Duckton.Core.Configuration;\n");
        var emitted = new HashSet<string>(StringComparer.Ordinal);
        Emit(root, sb, emitted);
        return sb.ToString();
    }

    private static Section SectionOf(string path, Dictionary<string, Section> byPath)
    {
        if (byPath.TryGetValue(path, out var section))
        {
            return section;
        }
        var dot = path.LastIndexOf('.');
        var parent = SectionOf(dot < 0 ? "" : path[..dot], byPath);
        section = new Section(path);
        parent.Children.Add(section);
        byPath[path] = section;
        return section;
    }

    private static void Emit(Section section, StringBuilder sb, HashSet<string> emitted)
    {
        foreach (var child in section.Children)
        {
            Emit(child, sb, emitted);
        }
        var (record, label, instance) = Describe(section.Path);
        var shape = Shape(section);
        if (!emitted.Add(record))
        {
            return; // a shared record, already written for the first instance
        }
        if (instance is not null)
        {
            CheckSharedShape(section, shape, instance);
        }
        sb.Append('\n');
        sb.Append(section.Path.Length == 0
            ? "/// <summary>The node's whole configuration: one immutable, typed value per catalogue key.</summary>\n"
            : $"/// <summary>The <c>[{label}]</c> section.</summary>\n");
        sb.Append("public sealed partial record ").Append(record).Append("\n{\n");
        var binds = new List<string>();
        foreach (var key in section.Keys)
        {
            var leaf = key.Key[(key.Key.LastIndexOf('.') + 1)..];
            var (type, bind) = Typing(key);
            var property = PropertyName(key, leaf);
            var meaning = instance is null ? key.Meaning : key.Meaning.Replace($"({instance.Value.Name})", $"(per {instance.Value.Placeholder})", StringComparison.Ordinal);
            var keyLabel = label.Length == 0 ? leaf : label + "." + leaf;
            sb.Append("    /// <summary>").Append(Xml(meaning)).Append(" (<c>").Append(keyLabel).Append("</c>)</summary>\n");
            sb.Append("    public ").Append(type).Append(' ').Append(property).Append(" { get; init; }")
              .Append(type == "string" ? " = \"\";" : "").Append('\n');
            binds.Add($"        {property} = {bind}(p + \"{leaf}\"),");
        }
        foreach (var child in section.Children)
        {
            var leaf = child.Path[(child.Path.LastIndexOf('.') + 1)..];
            var childRecord = Describe(child.Path).Record;
            var property = Pascal(leaf);
            var childLabel = instance is null ? child.Path : Describe(child.Path).Label;
            sb.Append("    /// <summary>The <c>[").Append(childLabel).Append("]</c> section.</summary>\n");
            sb.Append("    public ").Append(childRecord).Append(' ').Append(property).Append(" { get; init; } = null!;\n");
            binds.Add($"        {property} = {childRecord}.Bind(r, p + \"{leaf}.\"),");
        }
        sb.Append("\n    internal static ").Append(record).Append(" Bind(ConfigReader r, string p) => new()\n    {\n");
        foreach (var bind in binds)
        {
            sb.Append(bind).Append('\n');
        }
        sb.Append("    };\n}\n");
    }

    /// <summary>The record name of a section, its label in summaries, and the shared-section instance it is, if any.</summary>
    private static (string Record, string Label, (string Name, string Placeholder)? Instance) Describe(string path)
    {
        if (path.Length == 0)
        {
            return ("NodeConfig", "", null);
        }
        var parts = path.Split('.');
        foreach (var (parent, instances, placeholder, prefix) in s_shared)
        {
            var depth = parent.Split('.').Length;
            if (parts.Length > depth && string.Join('.', parts[..depth]) == parent && instances.Contains(parts[depth]))
            {
                var rest = parts[(depth + 1)..];
                var name = prefix + (rest.Length == 0 ? Pascal(placeholder) : string.Concat(rest.Select(Pascal))) + "Config";
                var label = string.Join('.', [.. parts[..depth], $"&lt;{placeholder}&gt;", .. rest]);
                return (name, label, (parts[depth], placeholder));
            }
        }
        return (string.Concat(parts.Select(Pascal)) + "Config", path, null);
    }

    /// <summary>What must agree between instances of a shared record: each key's leaf, type and property.</summary>
    private static string Shape(Section section) =>
        string.Join(";", section.Keys.Select(k => k.Key[(k.Key.LastIndexOf('.') + 1)..] + ":" + Typing(k).Type))
        + "|" + string.Join(";", section.Children.Select(c => c.Path[(c.Path.LastIndexOf('.') + 1)..]));

    private static void CheckSharedShape(Section section, string shape, (string Name, string Placeholder)? instance)
    {
        foreach (var (parent, instances, _, _) in s_shared)
        {
            foreach (var other in instances.Where(i => i != instance!.Value.Name))
            {
                var otherPath = section.Path.Replace($"{parent}.{instance!.Value.Name}", $"{parent}.{other}", StringComparison.Ordinal);
                var twin = new Section(otherPath);
                foreach (var key in ConfigCatalog.Keys.Where(k => k.Key[..k.Key.LastIndexOf('.')] == otherPath))
                {
                    twin.Keys.Add(key);
                }
                var children = ConfigCatalog.Sections.Where(s => s.StartsWith(otherPath + ".", StringComparison.Ordinal) && s.LastIndexOf('.') == otherPath.Length)
                    .Select(s => new Section(s));
                twin.Children.AddRange(children);
                if (Shape(twin) != shape)
                {
                    throw new InvalidOperationException($"sections [{section.Path}] and [{otherPath}] share a record but differ in shape");
                }
            }
        }
    }

    private static string PropertyName(ConfigKey key, string leaf)
    {
        if (key.PropertyOverride is { } name)
        {
            return name;
        }
        if (key.Type == ConfigValueType.Duration)
        {
            foreach (var suffix in (string[])["_ms", "_secs"])
            {
                if (leaf.EndsWith(suffix, StringComparison.Ordinal))
                {
                    leaf = leaf[..^suffix.Length];
                    break;
                }
            }
        }
        return Pascal(leaf);
    }

    /// <summary>The property's C# type and the reader call that binds it.</summary>
    private static (string Type, string Bind) Typing(ConfigKey key) => key.Type switch
    {
        ConfigValueType.Bool => ("bool", "r.Bool"),
        ConfigValueType.Int when key.MaxInt <= int.MaxValue && key.MinInt >= int.MinValue => ("int", "(int)r.Int"),
        ConfigValueType.Int or ConfigValueType.ByteSize => ("long", "r.Int"),
        ConfigValueType.Float => ("double", "r.Float"),
        ConfigValueType.String => ("string", "r.Text"),
        ConfigValueType.Enum when key.EnumType is { } e => (e.Name, $"r.Enum<{e.Name}>"),
        ConfigValueType.Enum => ("string", "r.Text"),
        ConfigValueType.StringList when key.EnumType is { } e => ($"ImmutableArray<{e.Name}>", $"r.EnumList<{e.Name}>"),
        ConfigValueType.StringList => ("ImmutableArray<string>", "r.List"),
        ConfigValueType.Duration => ("TimeSpan", "r.Duration"),
        _ => throw new InvalidOperationException($"{key.Key}: no C# type for {key.Type}"),
    };

    private static string Pascal(string segment) =>
        s_segmentNames.TryGetValue(segment, out var name)
            ? name
            : string.Concat(segment.Split('_').Select(w => w.Length == 0 ? w : char.ToUpper(w[0], CultureInfo.InvariantCulture) + w[1..]));

    private static string Xml(string text) =>
        text.Replace("&", "&amp;", StringComparison.Ordinal).Replace("<", "&lt;", StringComparison.Ordinal).Replace(">", "&gt;", StringComparison.Ordinal);
}
