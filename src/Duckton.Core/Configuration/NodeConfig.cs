namespace Duckton.Core.Configuration;

// The hand-written part of NodeConfig; its properties are generated from the catalogue (NodeConfig.g.cs).
public sealed partial record NodeConfig
{
    /// <summary>
    /// Every key at its built-in default. Options records that hold a setting take their default from here, so a
    /// default is written once, in the catalogue.
    /// </summary>
    public static NodeConfig Defaults => EffectiveConfig.Defaults.Config;
}
