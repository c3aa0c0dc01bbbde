// Every CLI command, in the order --help lists them.
import { apiKeysCreateCommand } from "./api-keys-create.ts";
import type { Command } from "./command.ts";
import { connectionsRefreshCommand } from "./connections-refresh.ts";
import { keysRetireCommand, keysRotateCommand } from "./keys-rotate.ts";
import { migrateCommand } from "./migrate.ts";
import { serveCommand } from "./serve.ts";
import { usersCreateCommand } from "./users-create.ts";

export const commands: Command[] = [serveCommand, migrateCommand, usersCreateCommand, apiKeysCreateCommand, connectionsRefreshCommand, keysRotateCommand, keysRetireCommand];
