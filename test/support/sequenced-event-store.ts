/** The backend's event store (resumable streams): what it stored, in order, and replay from an event id. */
import type { EventStore } from "@modelcontextprotocol/sdk/server/streamableHttp.js";
import type { JSONRPCMessage } from "@modelcontextprotocol/sdk/types.js";

export interface StoredEvent {
  streamId: string;
  eventId: string;
  message: JSONRPCMessage | Record<string, never>;
}

/** An event store with ids numbered in order, so replay order never depends on clock or chance. */
export class SequencedEventStore implements EventStore {
  private sequence = 0;
  constructor(private readonly events: StoredEvent[]) {}

  async storeEvent(streamId: string, message: JSONRPCMessage): Promise<string> {
    const eventId = `${streamId}_${String(++this.sequence).padStart(6, "0")}`;
    this.events.push({ streamId, eventId, message });
    return eventId;
  }

  async getStreamIdForEventId(eventId: string): Promise<string | undefined> {
    return this.events.find((event) => event.eventId === eventId)?.streamId;
  }

  async replayEventsAfter(lastEventId: string, { send }: { send: (eventId: string, message: JSONRPCMessage) => Promise<void> }): Promise<string> {
    const at = this.events.findIndex((event) => event.eventId === lastEventId);
    if (at === -1) return "";
    const { streamId } = this.events[at] as StoredEvent;
    for (const event of this.events.slice(at + 1)) {
      // Priming events carry no message: nothing to replay.
      if (event.streamId === streamId && "jsonrpc" in event.message) await send(event.eventId, event.message as JSONRPCMessage);
    }
    return streamId;
  }
}
