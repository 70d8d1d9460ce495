namespace Quill.Keeper.Protocol;

/// <summary>A record that knows its jute encoding. Each record also has a static Read(ref JuteReader).</summary>
public interface IJuteRecord
{
    void Write(JuteWriter writer);
}
