import Foundation
import Hummingbird
import Pipeline

/// `GET /api/openapi.json`: the OpenAPI 3.1 document of every route; a test
/// checks it names exactly the routes the router serves.
struct OpenAPIRoute {
    func register(on group: RouterGroup<APIContext>) {
        group.get("openapi.json") { _, _ in JSONResponse.make(.ok, text: OpenAPIDocument.text) }
    }
}

public enum OpenAPIDocument {
    /// The document, with the status enums taken from the one list of each (Pipeline/DeliveryStatus.swift).
    public static let text = template
        .replacingOccurrences(of: "@BATCH_STATUSES@", with: list(BatchStatus.allCases.map(\.rawValue)))
        .replacingOccurrences(of: "@RECIPIENT_STATUSES@", with: list(RecipientStatus.allCases.map(\.rawValue)))
        .replacingOccurrences(of: "@ANALYTICS_REQUIRED@", with: list(analyticsCounts))
        .replacingOccurrences(of: "@ANALYTICS_PROPERTIES@", with: "{" + analyticsCounts.map { "\"\($0)\": {\"type\": \"integer\", \"minimum\": 0}" }
            .joined(separator: ", ") + "}")

    /// The counts an analytics answer carries: every event type, then bounces by class.
    static let analyticsCounts = AnalyticsEventType.allCases.map(\.rawValue) + ["bouncedHard", "bouncedSoft"]

    private static func list(_ names: [String]) -> String {
        "[" + names.map { "\"\($0)\"" }.joined(separator: ", ") + "]"
    }

    static let template = #"""
{
 "openapi": "3.1.0",
 "info": {
  "title": "BatchSender API",
  "version": "1.0.0",
  "description": "Send-configs (bring your own provider keys), batches, recipients, API keys and suppressions. Every error is {\"error\":{\"code\",\"message\",\"field\"}}."
 },
 "servers": [
  {
   "url": "http://127.0.0.1:6001"
  }
 ],
 "security": [
  {
   "bearer": []
  }
 ],
 "paths": {
  "/api/messages": {
   "post": {
    "summary": "Send one message to one recipient ahead of every bulk batch (202). With Idempotency-Key, a repeat of the same request answers as the first did (header Idempotent-Replayed: true) and sends nothing; another request under the key is 409",
    "parameters": [
     {
      "name": "Idempotency-Key",
      "in": "header",
      "required": false,
      "schema": {
       "type": "string",
       "minLength": 1,
       "maxLength": 255
      }
     }
    ],
    "requestBody": {
     "required": true,
     "content": {
      "application/json": {
       "schema": {
        "$ref": "#/components/schemas/MessageInput"
       }
      }
     }
    },
    "responses": {
     "202": {
      "description": "Accepted: queued, or suppressed (never sent)",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/Message"
        }
       }
      }
     },
     "400": {
      "$ref": "#/components/responses/E400"
     },
     "401": {
      "$ref": "#/components/responses/E401"
     },
     "408": {
      "$ref": "#/components/responses/E408"
     },
     "409": {
      "$ref": "#/components/responses/E409"
     },
     "413": {
      "$ref": "#/components/responses/E413"
     },
     "415": {
      "$ref": "#/components/responses/E415"
     },
     "422": {
      "$ref": "#/components/responses/E422"
     },
     "429": {
      "$ref": "#/components/responses/E429"
     },
     "503": {
      "$ref": "#/components/responses/E503"
     }
    }
   }
  },
  "/api/messages/{id}": {
   "get": {
    "summary": "A message's status",
    "parameters": [
     {
      "name": "id",
      "in": "path",
      "required": true,
      "schema": {
       "type": "string"
      }
     }
    ],
    "responses": {
     "200": {
      "description": "The message",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/Message"
        }
       }
      }
     },
     "401": {
      "$ref": "#/components/responses/E401"
     },
     "404": {
      "$ref": "#/components/responses/E404"
     },
     "429": {
      "$ref": "#/components/responses/E429"
     },
     "503": {
      "$ref": "#/components/responses/E503"
     }
    }
   }
  },
  "/admin/limits": {
   "get": {
    "summary": "Every sending limit now and where it comes from (admin override, host config, none)",
    "tags": [
     "admin"
    ],
    "security": [
     {
      "admin": []
     }
    ],
    "responses": {
     "200": {
      "description": "The limit now",
      "content": {
       "application/json": {
        "schema": {
         "type": "object"
        }
       }
      }
     },
     "401": {
      "$ref": "#/components/responses/E401"
     },
     "403": {
      "$ref": "#/components/responses/E403"
     },
     "503": {
      "$ref": "#/components/responses/E503"
     }
    }
   }
  },
  "/admin/limits/system": {
   "put": {
    "summary": "Set the deployment-wide limit, live",
    "tags": [
     "admin"
    ],
    "security": [
     {
      "admin": []
     }
    ],
    "responses": {
     "200": {
      "description": "The limit now",
      "content": {
       "application/json": {
        "schema": {
         "type": "object"
        }
       }
      }
     },
     "400": {
      "$ref": "#/components/responses/E400"
     },
     "401": {
      "$ref": "#/components/responses/E401"
     },
     "403": {
      "$ref": "#/components/responses/E403"
     },
     "408": {
      "$ref": "#/components/responses/E408"
     },
     "413": {
      "$ref": "#/components/responses/E413"
     },
     "415": {
      "$ref": "#/components/responses/E415"
     },
     "422": {
      "$ref": "#/components/responses/E422"
     },
     "503": {
      "$ref": "#/components/responses/E503"
     }
    },
    "requestBody": {
     "required": true,
     "content": {
      "application/json": {
       "schema": {
        "type": "object",
        "required": [
         "perSecond"
        ],
        "additionalProperties": false,
        "properties": {
         "perSecond": {
          "type": "integer",
          "minimum": 1,
          "maximum": 10000000,
          "description": "Messages per second"
         }
        }
       }
      }
     }
    }
   },
   "delete": {
    "summary": "Back to the host config's system limit",
    "tags": [
     "admin"
    ],
    "security": [
     {
      "admin": []
     }
    ],
    "responses": {
     "204": {
      "description": "Cleared"
     },
     "401": {
      "$ref": "#/components/responses/E401"
     },
     "403": {
      "$ref": "#/components/responses/E403"
     },
     "503": {
      "$ref": "#/components/responses/E503"
     }
    }
   }
  },
  "/admin/limits/providers/{provider}": {
   "put": {
    "summary": "Set the shared limit of a provider's managed account, live",
    "tags": [
     "admin"
    ],
    "security": [
     {
      "admin": []
     }
    ],
    "responses": {
     "200": {
      "description": "The limit now",
      "content": {
       "application/json": {
        "schema": {
         "type": "object"
        }
       }
      }
     },
     "400": {
      "$ref": "#/components/responses/E400"
     },
     "401": {
      "$ref": "#/components/responses/E401"
     },
     "403": {
      "$ref": "#/components/responses/E403"
     },
     "404": {
      "$ref": "#/components/responses/E404"
     },
     "408": {
      "$ref": "#/components/responses/E408"
     },
     "413": {
      "$ref": "#/components/responses/E413"
     },
     "415": {
      "$ref": "#/components/responses/E415"
     },
     "422": {
      "$ref": "#/components/responses/E422"
     },
     "503": {
      "$ref": "#/components/responses/E503"
     }
    },
    "requestBody": {
     "required": true,
     "content": {
      "application/json": {
       "schema": {
        "type": "object",
        "required": [
         "perSecond"
        ],
        "additionalProperties": false,
        "properties": {
         "perSecond": {
          "type": "integer",
          "minimum": 1,
          "maximum": 10000000,
          "description": "Messages per second"
         }
        }
       }
      }
     }
    },
    "parameters": [
     {
      "name": "provider",
      "in": "path",
      "required": true,
      "schema": {
       "type": "string"
      }
     }
    ]
   },
   "delete": {
    "summary": "Back to the host config's managed limit",
    "tags": [
     "admin"
    ],
    "security": [
     {
      "admin": []
     }
    ],
    "responses": {
     "204": {
      "description": "Cleared"
     },
     "401": {
      "$ref": "#/components/responses/E401"
     },
     "403": {
      "$ref": "#/components/responses/E403"
     },
     "404": {
      "$ref": "#/components/responses/E404"
     },
     "503": {
      "$ref": "#/components/responses/E503"
     }
    },
    "parameters": [
     {
      "name": "provider",
      "in": "path",
      "required": true,
      "schema": {
       "type": "string"
      }
     }
    ]
   }
  },
  "/admin/limits/send-configs/{id}": {
   "get": {
    "summary": "A send-config's limit: override, its own rateLimit, the default, and which acts",
    "tags": [
     "admin"
    ],
    "security": [
     {
      "admin": []
     }
    ],
    "responses": {
     "200": {
      "description": "The limit now",
      "content": {
       "application/json": {
        "schema": {
         "type": "object"
        }
       }
      }
     },
     "401": {
      "$ref": "#/components/responses/E401"
     },
     "403": {
      "$ref": "#/components/responses/E403"
     },
     "404": {
      "$ref": "#/components/responses/E404"
     },
     "503": {
      "$ref": "#/components/responses/E503"
     }
    },
    "parameters": [
     {
      "name": "id",
      "in": "path",
      "required": true,
      "schema": {
       "type": "string"
      }
     }
    ]
   },
   "put": {
    "summary": "Override a send-config's limit, live",
    "tags": [
     "admin"
    ],
    "security": [
     {
      "admin": []
     }
    ],
    "responses": {
     "200": {
      "description": "The limit now",
      "content": {
       "application/json": {
        "schema": {
         "type": "object"
        }
       }
      }
     },
     "400": {
      "$ref": "#/components/responses/E400"
     },
     "401": {
      "$ref": "#/components/responses/E401"
     },
     "403": {
      "$ref": "#/components/responses/E403"
     },
     "404": {
      "$ref": "#/components/responses/E404"
     },
     "408": {
      "$ref": "#/components/responses/E408"
     },
     "413": {
      "$ref": "#/components/responses/E413"
     },
     "415": {
      "$ref": "#/components/responses/E415"
     },
     "422": {
      "$ref": "#/components/responses/E422"
     },
     "503": {
      "$ref": "#/components/responses/E503"
     }
    },
    "requestBody": {
     "required": true,
     "content": {
      "application/json": {
       "schema": {
        "type": "object",
        "required": [
         "perSecond"
        ],
        "additionalProperties": false,
        "properties": {
         "perSecond": {
          "type": "integer",
          "minimum": 1,
          "maximum": 10000000,
          "description": "Messages per second"
         }
        }
       }
      }
     }
    },
    "parameters": [
     {
      "name": "id",
      "in": "path",
      "required": true,
      "schema": {
       "type": "string"
      }
     }
    ]
   },
   "delete": {
    "summary": "Remove the override",
    "tags": [
     "admin"
    ],
    "security": [
     {
      "admin": []
     }
    ],
    "responses": {
     "204": {
      "description": "Cleared"
     },
     "401": {
      "$ref": "#/components/responses/E401"
     },
     "403": {
      "$ref": "#/components/responses/E403"
     },
     "404": {
      "$ref": "#/components/responses/E404"
     },
     "503": {
      "$ref": "#/components/responses/E503"
     }
    },
    "parameters": [
     {
      "name": "id",
      "in": "path",
      "required": true,
      "schema": {
       "type": "string"
      }
     }
    ]
   }
  },
  "/health": {
   "get": {
    "summary": "The process answers",
    "security": [],
    "responses": {
     "200": {
      "description": "OK",
      "content": {
       "application/json": {
        "schema": {
         "type": "object",
         "properties": {
          "status": {
           "const": "ok"
          }
         }
        }
       }
      }
     }
    }
   }
  },
  "/ready": {
   "get": {
    "summary": "PostgreSQL, Redis and NATS answer",
    "security": [],
    "responses": {
     "200": {
      "description": "OK",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/Readiness"
        }
       }
      }
     },
     "503": {
      "description": "A dependency is unreachable",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/Readiness"
        }
       }
      }
     }
    }
   }
  },
  "/metrics": {
   "get": {
    "summary": "Prometheus text: every role's metrics in this process (queue depth per stream and consumer, messages sent by provider and outcome, send latency, retries, rate-limit waits, dead letters, webhook verifications, the analytics writer's buffer) and the API's requests and latencies by route, method and status",
    "security": [],
    "responses": {
     "200": {
      "description": "OK",
      "content": {
       "text/plain": {
        "schema": {
         "type": "string"
        }
       }
      }
     }
    }
   }
  },
  "/api/metrics": {
   "get": {
    "summary": "The same as /metrics, where the seeds' scrapers look; no key needed. Prometheus text: every role's metrics in this process (queue depth per stream and consumer, messages sent by provider and outcome, send latency, retries, rate-limit waits, dead letters, webhook verifications, the analytics writer's buffer) and the API's requests and latencies by route, method and status",
    "security": [],
    "responses": {
     "200": {
      "description": "OK",
      "content": {
       "text/plain": {
        "schema": {
         "type": "string"
        }
       }
      }
     }
    }
   }
  },
  "/api/openapi.json": {
   "get": {
    "summary": "This document",
    "responses": {
     "200": {
      "description": "OK",
      "content": {
       "application/json": {
        "schema": {
         "type": "object"
        }
       }
      }
     },
     "401": {
      "$ref": "#/components/responses/E401"
     },
     "429": {
      "$ref": "#/components/responses/E429"
     },
     "503": {
      "$ref": "#/components/responses/E503"
     }
    }
   }
  },
  "/api/api-keys": {
   "post": {
    "summary": "Create another API key (for rotation); the key is shown once",
    "requestBody": {
     "required": true,
     "content": {
      "application/json": {
       "schema": {
        "type": "object",
        "additionalProperties": false,
        "properties": {
         "name": {
          "type": [
           "string",
           "null"
          ],
          "maxLength": 100
         }
        }
       }
      }
     }
    },
    "responses": {
     "201": {
      "description": "Created",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/NewApiKey"
        }
       }
      }
     },
     "400": {
      "$ref": "#/components/responses/E400"
     },
     "401": {
      "$ref": "#/components/responses/E401"
     },
     "408": {
      "$ref": "#/components/responses/E408"
     },
     "413": {
      "$ref": "#/components/responses/E413"
     },
     "415": {
      "$ref": "#/components/responses/E415"
     },
     "422": {
      "$ref": "#/components/responses/E422"
     },
     "429": {
      "$ref": "#/components/responses/E429"
     },
     "503": {
      "$ref": "#/components/responses/E503"
     }
    }
   },
   "get": {
    "summary": "List the caller's API keys",
    "responses": {
     "200": {
      "description": "OK",
      "content": {
       "application/json": {
        "schema": {
         "type": "object",
         "required": [
          "data",
          "nextCursor"
         ],
         "properties": {
          "data": {
           "type": "array",
           "items": {
            "$ref": "#/components/schemas/ApiKey"
           }
          },
          "nextCursor": {
           "type": [
            "string",
            "null"
           ]
          }
         }
        }
       }
      }
     },
     "401": {
      "$ref": "#/components/responses/E401"
     },
     "429": {
      "$ref": "#/components/responses/E429"
     },
     "503": {
      "$ref": "#/components/responses/E503"
     }
    }
   }
  },
  "/api/api-keys/{id}": {
   "delete": {
    "summary": "Revoke a key",
    "parameters": [
     {
      "$ref": "#/components/parameters/Id"
     }
    ],
    "responses": {
     "204": {
      "description": "Revoked"
     },
     "401": {
      "$ref": "#/components/responses/E401"
     },
     "404": {
      "$ref": "#/components/responses/E404"
     },
     "429": {
      "$ref": "#/components/responses/E429"
     },
     "503": {
      "$ref": "#/components/responses/E503"
     }
    }
   }
  },
  "/api/send-configs": {
   "post": {
    "summary": "Create a send-config: a provider and your credentials for it",
    "requestBody": {
     "required": true,
     "content": {
      "application/json": {
       "schema": {
        "$ref": "#/components/schemas/SendConfigInput"
       }
      }
     }
    },
    "responses": {
     "201": {
      "description": "Created",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/SendConfig"
        }
       }
      }
     },
     "400": {
      "$ref": "#/components/responses/E400"
     },
     "401": {
      "$ref": "#/components/responses/E401"
     },
     "403": {
      "$ref": "#/components/responses/E403"
     },
     "408": {
      "$ref": "#/components/responses/E408"
     },
     "409": {
      "$ref": "#/components/responses/E409"
     },
     "413": {
      "$ref": "#/components/responses/E413"
     },
     "415": {
      "$ref": "#/components/responses/E415"
     },
     "422": {
      "$ref": "#/components/responses/E422"
     },
     "429": {
      "$ref": "#/components/responses/E429"
     },
     "503": {
      "$ref": "#/components/responses/E503"
     }
    }
   },
   "get": {
    "summary": "List send-configs (credentials masked)",
    "responses": {
     "200": {
      "description": "OK",
      "content": {
       "application/json": {
        "schema": {
         "type": "object",
         "required": [
          "data",
          "nextCursor"
         ],
         "properties": {
          "data": {
           "type": "array",
           "items": {
            "$ref": "#/components/schemas/SendConfig"
           }
          },
          "nextCursor": {
           "type": [
            "string",
            "null"
           ]
          }
         }
        }
       }
      }
     },
     "401": {
      "$ref": "#/components/responses/E401"
     },
     "429": {
      "$ref": "#/components/responses/E429"
     },
     "503": {
      "$ref": "#/components/responses/E503"
     }
    }
   }
  },
  "/api/send-configs/{id}": {
   "get": {
    "summary": "One send-config",
    "parameters": [
     {
      "$ref": "#/components/parameters/Id"
     }
    ],
    "responses": {
     "200": {
      "description": "OK",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/SendConfig"
        }
       }
      }
     },
     "401": {
      "$ref": "#/components/responses/E401"
     },
     "404": {
      "$ref": "#/components/responses/E404"
     },
     "429": {
      "$ref": "#/components/responses/E429"
     },
     "503": {
      "$ref": "#/components/responses/E503"
     }
    }
   },
   "patch": {
    "summary": "Change name, rate limit, defaults or credentials (merged; null removes a key)",
    "parameters": [
     {
      "$ref": "#/components/parameters/Id"
     }
    ],
    "requestBody": {
     "required": true,
     "content": {
      "application/json": {
       "schema": {
        "$ref": "#/components/schemas/SendConfigPatch"
       }
      }
     }
    },
    "responses": {
     "200": {
      "description": "OK",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/SendConfig"
        }
       }
      }
     },
     "400": {
      "$ref": "#/components/responses/E400"
     },
     "401": {
      "$ref": "#/components/responses/E401"
     },
     "404": {
      "$ref": "#/components/responses/E404"
     },
     "408": {
      "$ref": "#/components/responses/E408"
     },
     "409": {
      "$ref": "#/components/responses/E409"
     },
     "413": {
      "$ref": "#/components/responses/E413"
     },
     "415": {
      "$ref": "#/components/responses/E415"
     },
     "422": {
      "$ref": "#/components/responses/E422"
     },
     "429": {
      "$ref": "#/components/responses/E429"
     },
     "503": {
      "$ref": "#/components/responses/E503"
     }
    }
   },
   "delete": {
    "summary": "Delete a send-config",
    "parameters": [
     {
      "$ref": "#/components/parameters/Id"
     }
    ],
    "responses": {
     "204": {
      "description": "Deleted"
     },
     "401": {
      "$ref": "#/components/responses/E401"
     },
     "404": {
      "$ref": "#/components/responses/E404"
     },
     "409": {
      "$ref": "#/components/responses/E409"
     },
     "429": {
      "$ref": "#/components/responses/E429"
     },
     "503": {
      "$ref": "#/components/responses/E503"
     }
    }
   }
  },
  "/api/batches": {
   "post": {
    "summary": "Create a draft batch, optionally with recipients (read as they arrive: up to 32 MiB). With Idempotency-Key, a retry answers with the first request's batch",
    "parameters": [
     {
      "$ref": "#/components/parameters/IdempotencyKey"
     }
    ],
    "requestBody": {
     "required": true,
     "content": {
      "application/json": {
       "schema": {
        "$ref": "#/components/schemas/BatchInput"
       }
      }
     }
    },
    "responses": {
     "201": {
      "description": "Created",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/Batch"
        }
       }
      }
     },
     "400": {
      "$ref": "#/components/responses/E400"
     },
     "401": {
      "$ref": "#/components/responses/E401"
     },
     "408": {
      "$ref": "#/components/responses/E408"
     },
     "409": {
      "$ref": "#/components/responses/E409"
     },
     "413": {
      "$ref": "#/components/responses/E413"
     },
     "415": {
      "$ref": "#/components/responses/E415"
     },
     "422": {
      "$ref": "#/components/responses/E422"
     },
     "429": {
      "$ref": "#/components/responses/E429"
     },
     "503": {
      "$ref": "#/components/responses/E503"
     }
    }
   },
   "get": {
    "summary": "List batches, newest first",
    "parameters": [
     {
      "name": "limit",
      "in": "query",
      "schema": {
       "type": "integer",
       "minimum": 1,
       "maximum": 500,
       "default": 50
      }
     },
     {
      "$ref": "#/components/parameters/BatchCursor"
     },
     {
      "name": "status",
      "in": "query",
      "schema": {
       "$ref": "#/components/schemas/BatchStatus"
      }
     }
    ],
    "responses": {
     "200": {
      "description": "OK",
      "content": {
       "application/json": {
        "schema": {
         "type": "object",
         "required": [
          "data",
          "nextCursor"
         ],
         "properties": {
          "data": {
           "type": "array",
           "items": {
            "$ref": "#/components/schemas/Batch"
           }
          },
          "nextCursor": {
           "type": [
            "string",
            "null"
           ]
          }
         }
        }
       }
      }
     },
     "401": {
      "$ref": "#/components/responses/E401"
     },
     "422": {
      "$ref": "#/components/responses/E422"
     },
     "429": {
      "$ref": "#/components/responses/E429"
     },
     "503": {
      "$ref": "#/components/responses/E503"
     }
    }
   }
  },
  "/api/batches/{id}": {
   "get": {
    "summary": "A batch with its recipients counted per status",
    "parameters": [
     {
      "$ref": "#/components/parameters/Id"
     }
    ],
    "responses": {
     "200": {
      "description": "OK",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/Batch"
        }
       }
      }
     },
     "401": {
      "$ref": "#/components/responses/E401"
     },
     "404": {
      "$ref": "#/components/responses/E404"
     },
     "429": {
      "$ref": "#/components/responses/E429"
     },
     "503": {
      "$ref": "#/components/responses/E503"
     }
    }
   }
  },
  "/api/batches/{id}/recipients": {
   "post": {
    "summary": "Add a chunk of recipients to a draft batch, all or nothing",
    "parameters": [
     {
      "$ref": "#/components/parameters/Id"
     }
    ],
    "requestBody": {
     "required": true,
     "content": {
      "application/json": {
       "schema": {
        "type": "array",
        "items": {
         "$ref": "#/components/schemas/RecipientInput"
        }
       }
      },
      "text/csv": {
       "schema": {
        "type": "string",
        "description": "A header row naming an address column (address, email, phone or to); other columns become variables"
       }
      }
     }
    },
    "responses": {
     "200": {
      "description": "OK",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/UploadResult"
        }
       }
      }
     },
     "400": {
      "$ref": "#/components/responses/E400"
     },
     "401": {
      "$ref": "#/components/responses/E401"
     },
     "404": {
      "$ref": "#/components/responses/E404"
     },
     "408": {
      "$ref": "#/components/responses/E408"
     },
     "409": {
      "$ref": "#/components/responses/E409"
     },
     "413": {
      "$ref": "#/components/responses/E413"
     },
     "415": {
      "$ref": "#/components/responses/E415"
     },
     "422": {
      "$ref": "#/components/responses/E422"
     },
     "429": {
      "$ref": "#/components/responses/E429"
     },
     "503": {
      "$ref": "#/components/responses/E503"
     }
    }
   },
   "get": {
    "summary": "A batch's recipients in position order",
    "parameters": [
     {
      "$ref": "#/components/parameters/Id"
     },
     {
      "name": "limit",
      "in": "query",
      "schema": {
       "type": "integer",
       "minimum": 1,
       "maximum": 1000,
       "default": 100
      }
     },
     {
      "$ref": "#/components/parameters/PositionCursor"
     },
     {
      "name": "status",
      "in": "query",
      "schema": {
       "$ref": "#/components/schemas/RecipientStatus"
      }
     }
    ],
    "responses": {
     "200": {
      "description": "OK",
      "content": {
       "application/json": {
        "schema": {
         "type": "object",
         "required": [
          "data",
          "nextCursor"
         ],
         "properties": {
          "data": {
           "type": "array",
           "items": {
            "$ref": "#/components/schemas/Recipient"
           }
          },
          "nextCursor": {
           "type": [
            "string",
            "null"
           ]
          }
         }
        }
       }
      }
     },
     "401": {
      "$ref": "#/components/responses/E401"
     },
     "404": {
      "$ref": "#/components/responses/E404"
     },
     "422": {
      "$ref": "#/components/responses/E422"
     },
     "429": {
      "$ref": "#/components/responses/E429"
     },
     "503": {
      "$ref": "#/components/responses/E503"
     }
    }
   }
  },
  "/api/batches/{id}/recipients/{position}/events": {
   "get": {
    "summary": "One recipient's history, oldest first: queued, the pipeline's outcome (sent, or why not), then its provider's events",
    "parameters": [
     {
      "$ref": "#/components/parameters/Id"
     },
     {
      "name": "position",
      "in": "path",
      "required": true,
      "schema": {
       "type": "integer",
       "minimum": 1
      },
      "description": "the recipient's position, as the recipient listing gives it"
     }
    ],
    "responses": {
     "200": {
      "description": "OK",
      "content": {
       "application/json": {
        "schema": {
         "type": "object",
         "required": [
          "data",
          "nextCursor"
         ],
         "properties": {
          "data": {
           "type": "array",
           "items": {
            "$ref": "#/components/schemas/RecipientEvent"
           }
          },
          "nextCursor": {
           "type": "null"
          }
         }
        }
       }
      }
     },
     "401": {
      "$ref": "#/components/responses/E401"
     },
     "404": {
      "$ref": "#/components/responses/E404"
     },
     "503": {
      "$ref": "#/components/responses/E503"
     }
    }
   }
  },
  "/api/batches/{id}/send": {
   "post": {
    "summary": "Queue a draft batch, now or at scheduledAt",
    "parameters": [
     {
      "$ref": "#/components/parameters/IdempotencyKey"
     },
     {
      "$ref": "#/components/parameters/Id"
     }
    ],
    "requestBody": {
     "required": false,
     "content": {
      "application/json": {
       "schema": {
        "type": "object",
        "additionalProperties": false,
        "properties": {
         "scheduledAt": {
          "type": "string",
          "format": "date-time"
         }
        }
       }
      }
     }
    },
    "responses": {
     "200": {
      "description": "OK",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/Batch"
        }
       }
      }
     },
     "400": {
      "$ref": "#/components/responses/E400"
     },
     "401": {
      "$ref": "#/components/responses/E401"
     },
     "404": {
      "$ref": "#/components/responses/E404"
     },
     "408": {
      "$ref": "#/components/responses/E408"
     },
     "409": {
      "$ref": "#/components/responses/E409"
     },
     "415": {
      "$ref": "#/components/responses/E415"
     },
     "422": {
      "$ref": "#/components/responses/E422"
     },
     "429": {
      "$ref": "#/components/responses/E429"
     },
     "503": {
      "$ref": "#/components/responses/E503"
     }
    }
   }
  },
  "/api/batches/{id}/cancel": {
   "post": {
    "summary": "Cancel a batch that has not finished",
    "parameters": [
     {
      "$ref": "#/components/parameters/Id"
     }
    ],
    "responses": {
     "200": {
      "description": "OK",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/Batch"
        }
       }
      }
     },
     "401": {
      "$ref": "#/components/responses/E401"
     },
     "404": {
      "$ref": "#/components/responses/E404"
     },
     "409": {
      "$ref": "#/components/responses/E409"
     },
     "429": {
      "$ref": "#/components/responses/E429"
     },
     "503": {
      "$ref": "#/components/responses/E503"
     }
    }
   }
  },
  "/api/analytics/overview": {
   "get": {
    "summary": "The caller's event counts and rates over a period (read from ClickHouse's hourly sums): sent, delivered, bounced (hard and soft), complained, failed, opened, clicked and the rest of the event types",
    "parameters": [
     {
      "name": "from",
      "in": "query",
      "required": false,
      "schema": {
       "type": "string",
       "format": "date-time"
      },
      "description": "start of the period (ISO 8601), rounded down to the hour (to the UTC day for a daily series); default: 7 days before `to`"
     },
     {
      "name": "to",
      "in": "query",
      "required": false,
      "schema": {
       "type": "string",
       "format": "date-time"
      },
      "description": "end of the period (ISO 8601), rounded up to the hour (to the UTC day for a daily series); default: now"
     },
     {
      "name": "sendConfigId",
      "in": "query",
      "required": false,
      "schema": {
       "type": "string",
       "format": "uuid"
      },
      "description": "only events of this send-config"
     }
    ],
    "responses": {
     "200": {
      "description": "OK",
      "content": {
       "application/json": {
        "schema": {
         "type": "object",
         "required": [
          "from",
          "to",
          "sendConfigId",
          "counts",
          "rates"
         ],
         "properties": {
          "from": {
           "type": "string",
           "format": "date-time"
          },
          "to": {
           "type": "string",
           "format": "date-time"
          },
          "sendConfigId": {
           "type": [
            "string",
            "null"
           ]
          },
          "counts": {
           "$ref": "#/components/schemas/AnalyticsCounts"
          },
          "rates": {
           "$ref": "#/components/schemas/AnalyticsRates"
          }
         }
        }
       }
      }
     },
     "401": {
      "$ref": "#/components/responses/E401"
     },
     "422": {
      "$ref": "#/components/responses/E422"
     },
     "429": {
      "$ref": "#/components/responses/E429"
     },
     "503": {
      "$ref": "#/components/responses/E503"
     }
    }
   }
  },
  "/api/analytics/timeseries": {
   "get": {
    "summary": "The caller's event counts per hour or UTC day over a period, one bucket for each (empty ones included)",
    "parameters": [
     {
      "name": "interval",
      "in": "query",
      "required": false,
      "schema": {
       "type": "string",
       "enum": [
        "hour",
        "day"
       ],
       "default": "day"
      },
      "description": "bucket size: an hourly series covers at most 31 days, a daily one 400"
     },
     {
      "name": "from",
      "in": "query",
      "required": false,
      "schema": {
       "type": "string",
       "format": "date-time"
      },
      "description": "start of the period (ISO 8601), rounded down to the hour (to the UTC day for a daily series); default: 7 days before `to`"
     },
     {
      "name": "to",
      "in": "query",
      "required": false,
      "schema": {
       "type": "string",
       "format": "date-time"
      },
      "description": "end of the period (ISO 8601), rounded up to the hour (to the UTC day for a daily series); default: now"
     },
     {
      "name": "sendConfigId",
      "in": "query",
      "required": false,
      "schema": {
       "type": "string",
       "format": "uuid"
      },
      "description": "only events of this send-config"
     }
    ],
    "responses": {
     "200": {
      "description": "OK",
      "content": {
       "application/json": {
        "schema": {
         "type": "object",
         "required": [
          "interval",
          "from",
          "to",
          "sendConfigId",
          "buckets"
         ],
         "properties": {
          "from": {
           "type": "string",
           "format": "date-time"
          },
          "to": {
           "type": "string",
           "format": "date-time"
          },
          "sendConfigId": {
           "type": [
            "string",
            "null"
           ]
          },
          "interval": {
           "type": "string",
           "enum": [
            "hour",
            "day"
           ]
          },
          "buckets": {
           "type": "array",
           "items": {
            "type": "object",
            "required": [
             "start",
             "counts",
             "rates"
            ],
            "properties": {
             "start": {
              "type": "string",
              "format": "date-time"
             },
             "counts": {
              "$ref": "#/components/schemas/AnalyticsCounts"
             },
             "rates": {
              "$ref": "#/components/schemas/AnalyticsRates"
             }
            }
           }
          }
         }
        }
       }
      }
     },
     "401": {
      "$ref": "#/components/responses/E401"
     },
     "422": {
      "$ref": "#/components/responses/E422"
     },
     "429": {
      "$ref": "#/components/responses/E429"
     },
     "503": {
      "$ref": "#/components/responses/E503"
     }
    }
   }
  },
  "/api/batches/{id}/stats": {
   "get": {
    "summary": "One batch's event counts and rates (read from ClickHouse's per-batch sums)",
    "parameters": [
     {
      "$ref": "#/components/parameters/Id"
     }
    ],
    "responses": {
     "200": {
      "description": "OK",
      "content": {
       "application/json": {
        "schema": {
         "type": "object",
         "required": [
          "batchId",
          "counts",
          "rates"
         ],
         "properties": {
          "batchId": {
           "type": "string",
           "format": "uuid"
          },
          "counts": {
           "$ref": "#/components/schemas/AnalyticsCounts"
          },
          "rates": {
           "$ref": "#/components/schemas/AnalyticsRates"
          }
         }
        }
       }
      }
     },
     "404": {
      "$ref": "#/components/responses/E404"
     },
     "401": {
      "$ref": "#/components/responses/E401"
     },
     "422": {
      "$ref": "#/components/responses/E422"
     },
     "429": {
      "$ref": "#/components/responses/E429"
     },
     "503": {
      "$ref": "#/components/responses/E503"
     }
    }
   }
  },
  "/api/suppressions": {
   "post": {
    "summary": "Suppress an address (201 when new, 200 when it was already)",
    "requestBody": {
     "required": true,
     "content": {
      "application/json": {
       "schema": {
        "type": "object",
        "required": [
         "address"
        ],
        "additionalProperties": false,
        "properties": {
         "address": {
          "type": "string",
          "minLength": 1
         },
         "reason": {
          "enum": [
           "manual",
           "bounce",
           "complaint",
           "unsubscribe"
          ]
         }
        }
       }
      }
     }
    },
    "responses": {
     "200": {
      "description": "Already suppressed",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/Suppression"
        }
       }
      }
     },
     "201": {
      "description": "Created",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/Suppression"
        }
       }
      }
     },
     "400": {
      "$ref": "#/components/responses/E400"
     },
     "401": {
      "$ref": "#/components/responses/E401"
     },
     "408": {
      "$ref": "#/components/responses/E408"
     },
     "413": {
      "$ref": "#/components/responses/E413"
     },
     "415": {
      "$ref": "#/components/responses/E415"
     },
     "422": {
      "$ref": "#/components/responses/E422"
     },
     "429": {
      "$ref": "#/components/responses/E429"
     },
     "503": {
      "$ref": "#/components/responses/E503"
     }
    }
   },
   "get": {
    "summary": "List suppressed addresses",
    "parameters": [
     {
      "name": "limit",
      "in": "query",
      "schema": {
       "type": "integer",
       "minimum": 1,
       "maximum": 1000,
       "default": 100
      }
     },
     {
      "$ref": "#/components/parameters/Cursor"
     }
    ],
    "responses": {
     "200": {
      "description": "OK",
      "content": {
       "application/json": {
        "schema": {
         "type": "object",
         "required": [
          "data",
          "nextCursor"
         ],
         "properties": {
          "data": {
           "type": "array",
           "items": {
            "$ref": "#/components/schemas/Suppression"
           }
          },
          "nextCursor": {
           "type": [
            "string",
            "null"
           ]
          }
         }
        }
       }
      }
     },
     "401": {
      "$ref": "#/components/responses/E401"
     },
     "422": {
      "$ref": "#/components/responses/E422"
     },
     "429": {
      "$ref": "#/components/responses/E429"
     },
     "503": {
      "$ref": "#/components/responses/E503"
     }
    }
   },
   "delete": {
    "summary": "Remove a suppression",
    "parameters": [
     {
      "name": "address",
      "in": "query",
      "required": true,
      "schema": {
       "type": "string",
       "minLength": 1
      }
     }
    ],
    "responses": {
     "204": {
      "description": "Removed"
     },
     "401": {
      "$ref": "#/components/responses/E401"
     },
     "404": {
      "$ref": "#/components/responses/E404"
     },
     "422": {
      "$ref": "#/components/responses/E422"
     },
     "429": {
      "$ref": "#/components/responses/E429"
     },
     "503": {
      "$ref": "#/components/responses/E503"
     }
    }
   }
  }
 },
 "components": {
  "securitySchemes": {
   "bearer": {
    "type": "http",
    "scheme": "bearer",
    "description": "An API key, bsk_…"
   },
   "admin": {
    "type": "http",
    "scheme": "bearer",
    "description": "The operators' admin token ([admin] token in the host config); a user's API key is refused with 403"
   }
  },
  "responses": {
   "E503": {
    "description": "A backing server is unreachable, every pooled connection stayed busy (code busy), the rate limiter cannot count, or the feature is not configured; retry after Retry-After when it is given",
    "headers": {
     "Retry-After": {
      "description": "seconds to wait before retrying",
      "schema": {
       "type": "integer",
       "minimum": 1
      }
     }
    },
    "content": {
     "application/json": {
      "schema": {
       "$ref": "#/components/schemas/Error"
      }
     }
    }
   },
   "E400": {
    "description": "Malformed request",
    "content": {
     "application/json": {
      "schema": {
       "$ref": "#/components/schemas/Error"
      }
     }
    }
   },
   "E401": {
    "description": "Missing, unknown or revoked API key",
    "content": {
     "application/json": {
      "schema": {
       "$ref": "#/components/schemas/Error"
      }
     }
    }
   },
   "E403": {
    "description": "Not allowed",
    "content": {
     "application/json": {
      "schema": {
       "$ref": "#/components/schemas/Error"
      }
     }
    }
   },
   "E404": {
    "description": "Not found (or not yours)",
    "content": {
     "application/json": {
      "schema": {
       "$ref": "#/components/schemas/Error"
      }
     }
    }
   },
   "E409": {
    "description": "Conflicts with the current state",
    "content": {
     "application/json": {
      "schema": {
       "$ref": "#/components/schemas/Error"
      }
     }
    }
   },
   "E408": {
    "description": "The request body did not arrive within [api] body_timeout_ms; nothing of it was stored",
    "content": {
     "application/json": {
      "schema": {
       "$ref": "#/components/schemas/Error"
      }
     }
    }
   },
   "E413": {
    "description": "Too large",
    "content": {
     "application/json": {
      "schema": {
       "$ref": "#/components/schemas/Error"
      }
     }
    }
   },
   "E415": {
    "description": "Unsupported Content-Type",
    "content": {
     "application/json": {
      "schema": {
       "$ref": "#/components/schemas/Error"
      }
     }
    }
   },
   "E422": {
    "description": "A field is invalid",
    "content": {
     "application/json": {
      "schema": {
       "$ref": "#/components/schemas/Error"
      }
     }
    }
   },
   "E429": {
    "description": "Rate limited; see Retry-After",
    "content": {
     "application/json": {
      "schema": {
       "$ref": "#/components/schemas/Error"
      }
     }
    }
   }
  },
  "parameters": {
   "IdempotencyKey": {
    "name": "Idempotency-Key",
    "in": "header",
    "required": false,
    "description": "Makes a retry safe: a repeat of the same request within 24 hours answers as the first did (header Idempotent-Replayed: true) and does nothing again; another request under the key is 409",
    "schema": {
     "type": "string",
     "minLength": 1,
     "maxLength": 255,
     "pattern": "^[\\x21-\\x7E]+$"
    }
   },
   "Cursor": {
    "name": "cursor",
    "in": "query",
    "schema": {
     "type": "string"
    },
    "description": "The nextCursor of the previous page"
   },
   "Id": {
    "name": "id",
    "in": "path",
    "required": true,
    "schema": {
     "type": "string",
     "format": "uuid"
    }
   },
   "BatchCursor": {
    "name": "cursor",
    "in": "query",
    "description": "The nextCursor of the previous page: a batch id",
    "schema": {
     "type": "string",
     "format": "uuid"
    }
   },
   "PositionCursor": {
    "name": "cursor",
    "in": "query",
    "description": "The nextCursor of the previous page: a recipient position",
    "schema": {
     "type": "string",
     "pattern": "^[0-9]{1,18}$"
    }
   }
  },
  "schemas": {
   "AnalyticsCounts": {
    "type": "object",
    "description": "Events of each type (the one list in Pipeline/AnalyticsEvent.swift): queued (put in a chunk), sent (accepted by the provider), failed (could not be sent), rejected, suppressed, cancelled, then what the provider's webhooks told: delivered, deferred, bounced, complained, opened, clicked, unsubscribed, undelivered (the provider gave up); bouncedHard and bouncedSoft split bounced",
    "required": @ANALYTICS_REQUIRED@,
    "properties": @ANALYTICS_PROPERTIES@
   },
   "AnalyticsRates": {
    "type": "object",
    "description": "delivery, bounce and complaint per message sent; open and click per message delivered; null without a denominator",
    "required": [
     "delivery",
     "bounce",
     "complaint",
     "open",
     "click"
    ],
    "properties": {
     "delivery": {
      "type": [
       "number",
       "null"
      ],
      "minimum": 0
     },
     "bounce": {
      "type": [
       "number",
       "null"
      ],
      "minimum": 0
     },
     "complaint": {
      "type": [
       "number",
       "null"
      ],
      "minimum": 0
     },
     "open": {
      "type": [
       "number",
       "null"
      ],
      "minimum": 0
     },
     "click": {
      "type": [
       "number",
       "null"
      ],
      "minimum": 0
     }
    }
   },
   "MessageInput": {
    "type": "object",
    "required": [
     "sendConfigId",
     "to",
     "payload"
    ],
    "additionalProperties": false,
    "properties": {
     "sendConfigId": {
      "type": "string",
      "format": "uuid"
     },
     "to": {
      "type": "string",
      "description": "One recipient: an email address, an E.164 phone number or a webhook endpoint name, by the send-config's channel",
      "minLength": 1
     },
     "payload": {
      "$ref": "#/components/schemas/Payload"
     },
     "variables": {
      "type": "object",
      "description": "Values for the payload's {{placeholders}}; a placeholder without one is refused (422, field variables)"
     }
    }
   },
   "Message": {
    "type": "object",
    "properties": {
     "id": {
      "type": "string",
      "format": "uuid"
     },
     "sendConfigId": {
      "type": "string",
      "format": "uuid"
     },
     "to": {
      "type": "string"
     },
     "status": {
      "enum": @RECIPIENT_STATUSES@
     },
     "providerMessageId": {
      "type": [
       "string",
       "null"
      ]
     },
     "attempts": {
      "type": "integer"
     },
     "lastError": {
      "type": [
       "string",
       "null"
      ]
     },
     "createdAt": {
      "type": "string"
     },
     "sentAt": {
      "type": [
       "string",
       "null"
      ]
     },
     "updatedAt": {
      "type": "string"
     }
    }
   },
   "Error": {
    "type": "object",
    "required": [
     "error"
    ],
    "properties": {
     "error": {
      "type": "object",
      "required": [
       "code",
       "message",
       "field"
      ],
      "properties": {
       "code": {
        "type": "string"
       },
       "message": {
        "type": "string"
       },
       "field": {
        "type": [
         "string",
         "null"
        ]
       }
      }
     }
    }
   },
   "Readiness": {
    "type": "object",
    "properties": {
     "status": {
      "enum": [
       "ready",
       "unready"
      ]
     },
     "checks": {
      "type": "object",
      "additionalProperties": {
       "type": "string"
      }
     },
     "error": {
      "$ref": "#/components/schemas/Error"
     }
    }
   },
   "ApiKey": {
    "type": "object",
    "properties": {
     "id": {
      "type": "string",
      "format": "uuid"
     },
     "name": {
      "type": "string"
     },
     "prefix": {
      "type": "string"
     },
     "createdAt": {
      "type": "string"
     },
     "lastUsedAt": {
      "type": [
       "string",
       "null"
      ]
     },
     "revokedAt": {
      "type": [
       "string",
       "null"
      ]
     }
    }
   },
   "NewApiKey": {
    "allOf": [
     {
      "$ref": "#/components/schemas/ApiKey"
     },
     {
      "type": "object",
      "required": [
       "key"
      ],
      "properties": {
       "key": {
        "type": "string",
        "description": "Shown only once"
       }
      }
     }
    ]
   },
   "SendConfigInput": {
    "type": "object",
    "required": [
     "name",
     "provider"
    ],
    "additionalProperties": false,
    "properties": {
     "name": {
      "type": "string",
      "maxLength": 100,
      "minLength": 1
     },
     "provider": {
      "type": "string",
      "description": "A loaded plugin's id",
      "minLength": 1
     },
     "mode": {
      "enum": [
       "byok",
       "managed"
      ],
      "default": "byok"
     },
     "channel": {
      "enum": [
       "email",
       "sms",
       "webhook"
      ]
     },
     "credentials": {
      "type": "object",
      "description": "The plugin's config keys"
     },
     "rateLimit": {
      "type": "integer",
      "minimum": 1,
      "maximum": 1000000
     },
     "defaults": {
      "$ref": "#/components/schemas/SendDefaults"
     }
    }
   },
   "SendConfigPatch": {
    "type": "object",
    "additionalProperties": false,
    "properties": {
     "name": {
      "type": "string",
      "maxLength": 100,
      "minLength": 1
     },
     "credentials": {
      "type": [
       "object",
       "null"
      ],
      "description": "Merged into the stored credentials: a key set to null is removed; null alone changes nothing"
     },
     "rateLimit": {
      "type": [
       "integer",
       "null"
      ],
      "minimum": 1
     },
     "defaults": {
      "anyOf": [
       {
        "$ref": "#/components/schemas/SendDefaults"
       },
       {
        "type": "null"
       }
      ],
      "description": "Replaces the defaults; null clears them"
     }
    }
   },
   "SendDefaults": {
    "type": "object",
    "additionalProperties": false,
    "properties": {
     "from": {
      "type": "string"
     },
     "replyTo": {
      "type": "string"
     },
     "messagingProfileId": {
      "type": "string"
     }
    }
   },
   "SendConfig": {
    "type": "object",
    "properties": {
     "id": {
      "type": "string",
      "format": "uuid"
     },
     "name": {
      "type": "string"
     },
     "provider": {
      "type": "string"
     },
     "mode": {
      "enum": [
       "byok",
       "managed"
      ]
     },
     "channel": {
      "enum": [
       "email",
       "sms",
       "webhook"
      ]
     },
     "credentials": {
      "type": "object",
      "description": "Secret values masked as ••••abcd"
     },
     "rateLimit": {
      "type": [
       "integer",
       "null"
      ]
     },
     "defaults": {
      "type": "object"
     },
     "createdAt": {
      "type": "string"
     },
     "updatedAt": {
      "type": "string"
     },
     "webhookUrl": {
      "type": "string",
      "description": "where the provider sends this config's webhooks (POST), verified with the config's own secret (a managed config: the deployment's managed route, /webhooks/{provider}); present when the plugin takes webhooks"
     }
    }
   },
   "BatchStatus": {
    "enum": @BATCH_STATUSES@
   },
   "RecipientStatus": {
    "enum": @RECIPIENT_STATUSES@
   },
   "Payload": {
    "type": "object",
    "additionalProperties": false,
    "properties": {
     "from": {
      "type": "string"
     },
     "replyTo": {
      "type": "string"
     },
     "subject": {
      "type": "string"
     },
     "html": {
      "type": "string"
     },
     "text": {
      "type": "string"
     },
     "headers": {
      "type": "object",
      "additionalProperties": {
       "type": "string"
      }
     },
     "tags": {
      "type": "object",
      "additionalProperties": {
       "type": "string"
      }
     },
     "data": {
      "description": "Webhook channel only"
     }
    }
   },
   "BatchInput": {
    "type": "object",
    "required": [
     "name",
     "sendConfigId",
     "payload"
    ],
    "additionalProperties": false,
    "properties": {
     "name": {
      "type": "string",
      "maxLength": 200,
      "minLength": 1
     },
     "sendConfigId": {
      "type": "string",
      "format": "uuid"
     },
     "payload": {
      "$ref": "#/components/schemas/Payload"
     },
     "recipients": {
      "type": "array",
      "items": {
       "$ref": "#/components/schemas/RecipientInput"
      }
     },
     "scheduledAt": {
      "type": "string",
      "format": "date-time"
     }
    }
   },
   "RecipientInput": {
    "oneOf": [
     {
      "type": "string"
     },
     {
      "type": "object",
      "required": [
       "address"
      ],
      "additionalProperties": false,
      "properties": {
       "address": {
        "type": "string"
       },
       "variables": {
        "type": "object",
        "additionalProperties": {
         "type": "string"
        }
       }
      }
     }
    ]
   },
   "Batch": {
    "type": "object",
    "properties": {
     "id": {
      "type": "string",
      "format": "uuid"
     },
     "name": {
      "type": "string"
     },
     "sendConfigId": {
      "type": "string",
      "format": "uuid"
     },
     "status": {
      "$ref": "#/components/schemas/BatchStatus"
     },
     "payload": {
      "$ref": "#/components/schemas/Payload"
     },
     "scheduledAt": {
      "type": [
       "string",
       "null"
      ]
     },
     "counts": {
      "type": "object",
      "properties": {
       "recipients": {
        "type": "integer"
       },
       "duplicates": {
        "type": "integer"
       },
       "suppressed": {
        "type": "integer"
       },
       "sent": {
        "type": "integer",
        "description": "recipients the provider accepted (later statuses included)"
       },
       "delivered": {
        "type": "integer"
       },
       "failed": {
        "type": "integer",
        "description": "recipients that could not be sent"
       },
       "undelivered": {
        "type": "integer",
        "description": "recipients the provider accepted, then reported failed (their status is failed)"
       },
       "pending": {
        "type": "integer",
        "description": "recipients without an outcome yet"
       },
       "cancelled": {
        "type": "integer"
       },
       "bounced": {
        "type": "integer",
        "description": "recipients a provider reported bounced (hard or soft)"
       },
       "complained": {
        "type": "integer",
        "description": "recipients who complained"
       },
       "rejected": {
        "type": "integer",
        "description": "recipients the provider rejected after accepting"
       }
      }
     },
     "progress": {
      "type": "object",
      "properties": {
       "startedAt": {
        "type": [
         "string",
         "null"
        ]
       },
       "lastOutcomeAt": {
        "type": [
         "string",
         "null"
        ]
       },
       "finishedAt": {
        "type": [
         "string",
         "null"
        ]
       },
       "messagesPerSecond": {
        "type": "number"
       },
       "failureReason": {
        "type": [
         "string",
         "null"
        ],
        "description": "why the batch could not be sent at all (send-config deleted, plugin not loaded, credentials refused)"
       }
      }
     },
     "recipientStatus": {
      "type": "object",
      "additionalProperties": {
       "type": "integer"
      }
     },
     "createdAt": {
      "type": "string"
     },
     "updatedAt": {
      "type": "string"
     },
     "queuedAt": {
      "type": [
       "string",
       "null"
      ]
     },
     "completedAt": {
      "type": [
       "string",
       "null"
      ]
     }
    }
   },
   "Recipient": {
    "type": "object",
    "properties": {
     "position": {
      "type": "integer",
      "format": "int64",
      "description": "Increases in upload order within the batch; not contiguous."
     },
     "address": {
      "type": "string"
     },
     "variables": {
      "type": "object"
     },
     "status": {
      "$ref": "#/components/schemas/RecipientStatus"
     },
     "providerMessageId": {
      "type": [
       "string",
       "null"
      ]
     },
     "attempts": {
      "type": "integer"
     },
     "lastError": {
      "type": [
       "string",
       "null"
      ]
     },
     "updatedAt": {
      "type": "string"
     }
    }
   },
   "UploadResult": {
    "type": "object",
    "properties": {
     "received": {
      "type": "integer"
     },
     "accepted": {
      "type": "integer"
     },
     "duplicates": {
      "type": "integer"
     },
     "suppressed": {
      "type": "integer"
     },
     "total": {
      "type": "integer"
     }
    }
   },
   "Suppression": {
    "type": "object",
    "properties": {
     "address": {
      "type": "string"
     },
     "reason": {
      "type": "string"
     },
     "source": {
      "type": "string"
     },
     "createdAt": {
      "type": "string"
     }
    }
   },
   "RecipientEvent": {
    "type": "object",
    "required": [
     "type",
     "at",
     "source"
    ],
    "properties": {
     "type": {
      "type": "string",
      "description": "queued, sent, failed, suppressed or cancelled from the pipeline; a provider event type (delivered, bounced, deferred, complained, opened, clicked, …) from webhooks"
     },
     "at": {
      "type": "string"
     },
     "source": {
      "type": "string",
      "enum": [
       "pipeline",
       "provider"
      ]
     },
     "providerMessageId": {
      "type": [
       "string",
       "null"
      ]
     },
     "provider": {
      "type": "string"
     },
     "eventId": {
      "type": "string"
     },
     "bounceClass": {
      "type": [
       "string",
       "null"
      ],
      "enum": [
       "hard",
       "soft",
       null
      ]
     },
     "reason": {
      "type": [
       "string",
       "null"
      ]
     },
     "code": {
      "type": [
       "string",
       "null"
      ]
     },
     "url": {
      "type": [
       "string",
       "null"
      ]
     },
     "receivedAt": {
      "type": "string"
     }
    }
   }
  }
 }
}
"""#
}
