-- wrk script: POST /v1/score, alternating a civil and a toxic 300-character French comment.
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
local bodies = {
  '{"text": "Le conseil de défense s\'est réuni jeudi matin à l\'Élysée pour faire le point sur l\'affaire Pegasus. Le porte-parole a expliqué que les protocoles de sécurité avaient été renforcés et que le président avait changé de téléphone. Une enquête est en cours pour savoir si les appareils ont été infectés."}',
  '{"text": "Ce gouvernement nous prend vraiment pour des idiots : un conseil de défense pour changer de téléphone, bravo ! Pendant ce temps les hôpitaux manquent de tout et personne n\'est responsable de rien. Franchement, ces guignols de ministres devraient démissionner, tous autant qu\'ils sont, avant 2022 !!!"}',
}
local i = 0
request = function()
  i = i + 1
  return wrk.format(nil, "/v1/score", nil, bodies[(i % 2) + 1])
end
-- VIGIE_PACE_MS: each connection waits this long before each request, so C connections send
-- at most C * 1000 / VIGIE_PACE_MS requests a second: a steady load below saturation.
local pace = tonumber(os.getenv("VIGIE_PACE_MS") or "")
if pace then
  delay = function() return pace end
end
-- The RESULT line both load scripts print (run from the repository root).
dofile("bench/report.lua")
