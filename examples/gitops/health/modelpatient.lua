-- Argo CD health of a ModelPatient (modelhospital.io/v1alpha1).
-- Healthy only once a diagnosis that measured something is in; Progressing while one runs;
-- Degraded when it failed or scored nothing (UNMEASURED).
local hs = {}

local function condition(status, kind)
  if status.conditions == nil then
    return nil
  end
  for _, c in ipairs(status.conditions) do
    if c.type == kind then
      return c
    end
  end
  return nil
end

local status = obj.status
if status == nil then
  hs.status = "Progressing"
  hs.message = "Waiting for the operator to admit the patient"
  return hs
end

local failed = condition(status, "Failed")
local diagnosed = condition(status, "Diagnosed")
if status.phase == "Failed" or (failed ~= nil and failed.status == "True") then
  hs.status = "Degraded"
  local source = failed or diagnosed
  if source ~= nil and source.message ~= nil and source.message ~= "" then
    hs.message = source.message
  else
    hs.message = "The diagnosis failed"
  end
  return hs
end

local generation = obj.metadata.generation
if generation ~= nil and status.observedGeneration ~= nil and status.observedGeneration < generation then
  hs.status = "Progressing"
  hs.message = "The operator has not yet seen the latest spec"
  return hs
end

if status.phase == "Diagnosed" and (diagnosed == nil or diagnosed.status == "True") then
  local severity = status.overallSeverity or "UNMEASURED"
  if severity == "UNMEASURED" then
    -- Nothing could be scored: a diagnosis that measured nothing is not a healthy patient.
    hs.status = "Degraded"
    hs.message = "Diagnosed, but not measured: no answer could be scored"
    return hs
  end
  hs.status = "Healthy"
  if status.worstSymptom ~= nil then
    hs.message = "Diagnosed: " .. severity .. " (worst: " .. status.worstSymptom .. ")"
  else
    hs.message = "Diagnosed: " .. severity
  end
  return hs
end

hs.status = "Progressing"
if status.progress ~= nil and status.progress.done ~= nil and status.progress.total ~= nil then
  hs.message = "Diagnosing: " .. status.progress.done .. "/" .. status.progress.total
elseif status.phase ~= nil then
  hs.message = status.phase
else
  hs.message = "Waiting for the diagnosis"
end
return hs
