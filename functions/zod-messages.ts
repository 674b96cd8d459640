/**
 * zod's English messages ("Too small: expected string to have >=1 characters", `Unrecognized key: "x"`).
 *
 * The gateway's schemas use `zod/mini`, whose functional API lets the Lambda bundle carry only the parts of zod it
 * uses; unlike classic `zod`, it ships no messages of its own until a locale is configured. Every module that declares
 * a schema imports this one for that effect. The configuration is global, so it also holds for classic `zod`.
 */
import { config } from "zod/mini";
import { en } from "zod/locales";

config(en());
