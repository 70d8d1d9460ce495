namespace Quill.Broker.Metadata;

/// <summary>
/// A controller write found /controller_epoch at another version than the one this controller set when it was
/// elected: another broker has become the controller since, and this one must stop acting as one.
/// </summary>
public sealed class ControllerMovedException() : Exception("another broker has become the controller (/controller_epoch moved on)");
